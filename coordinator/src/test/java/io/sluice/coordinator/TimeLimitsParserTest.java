package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sluice.json.Json;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TimeLimitsParserTest {

  @Test
  void durationsAreReadInTheUnitsTheApiWritesAndKeptToTheMillisecond() {
    TimeLimits limits =
        parse(
            "{\"taskTimeout\":\"500ms\",\"deadline\":\"1h\",\"retry\":{\"base\":\"2s\",\"max\":\"5m\"}}");

    assertThat(limits.taskTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(limits.deadline()).isEqualTo(Duration.ofHours(1));
    assertThat(limits.retryBase()).isEqualTo(Duration.ofSeconds(2));
    assertThat(limits.retryMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(parse("{\"taskTimeout\":\"PT30S\"}").taskTimeout())
        .isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aBodyWithoutLimitsHasNone() {
    assertThat(parse("{}")).isEqualTo(TimeLimits.NONE);
    assertThat(parse("{\"taskTimeout\":null,\"retry\":null}")).isEqualTo(TimeLimits.NONE);
  }

  @Test
  void aRetryWithoutMaxTakesTheWorkersDefaultMaxOrItsBaseWhenThatIsLonger() {
    assertThat(parse("{\"retry\":{\"base\":\"1s\"}}").retryMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(parse("{\"retry\":{\"base\":\"10m\"}}").retryMax())
        .isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void eachBadValueIsRefusedNamingItsField() {
    assertRefused("{\"taskTimeout\":\"50ms\"}", "taskTimeout", "between 100ms and 24h");
    assertRefused("{\"taskTimeout\":\"25h\"}", "taskTimeout", "between 100ms and 24h");
    assertRefused("{\"taskTimeout\":30}", "taskTimeout", "a duration such as");
    assertRefused("{\"taskTimeout\":\"soon\"}", "taskTimeout", "a duration such as");
    assertRefused("{\"taskTimeout\":\"-5s\"}", "taskTimeout", "between");
    assertRefused("{\"taskTimeout\":\"\"}", "taskTimeout", "a duration such as");
    assertRefused("{\"deadline\":\"500ms\"}", "deadline", "between 1s and");
    assertRefused("{\"deadline\":\"2030-01-01T00:00:00Z\"}", "deadline", "a duration such as");
    assertRefused("{\"retry\":\"1s\"}", "retry", "must be an object");
    assertRefused("{\"retry\":{}}", "retry.base", "required");
    assertRefused("{\"retry\":{\"base\":\"1s\",\"cap\":\"1m\"}}", "retry.cap", "unknown field");
    assertRefused("{\"retry\":{\"base\":\"5ms\"}}", "retry.base", "between 10ms and 1h");
    assertRefused("{\"retry\":{\"base\":\"1m\",\"max\":\"30s\"}}", "retry.max", "between 1m and");
  }

  @Test
  void aStagesTimeoutIsRefusedNamingTheStageAndTheField() {
    ApiException e =
        catchThrowableOfType(
            ApiException.class,
            () ->
                StagesParser.parse(
                    Json.read("[{\"name\":\"a\",\"type\":\"t\",\"taskTimeout\":\"2d\"}]"),
                    "q",
                    "fail"));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.body().path("field").asText()).isEqualTo("stages[0].taskTimeout");
    assertThat(e.body().path("stage").asText()).isEqualTo("a");
    assertThat(e.getMessage()).contains("stage 'a'").contains("taskTimeout must be");
  }

  @Test
  void theApiWritesDurationsInTheLargestUnitThatDividesThem() {
    assertThat(TimeLimits.text(Duration.ofMillis(300))).isEqualTo("300ms");
    assertThat(TimeLimits.text(Duration.ofSeconds(30))).isEqualTo("30s");
    assertThat(TimeLimits.text(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(TimeLimits.text(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(TimeLimits.text(Duration.ofHours(48))).isEqualTo("48h");
    assertThat(TimeLimits.text(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void theSameRequestWithAnotherTimeoutHashesDifferentlyAndOneWithoutLimitsAsBefore() {
    String base = "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"idempotencyKey\":\"k\"";
    String plain = RequestHash.of(SubmitRequestParser.parse(Json.read(base + "}")));
    String thirty =
        RequestHash.of(SubmitRequestParser.parse(Json.read(base + ",\"taskTimeout\":\"30s\"}")));
    String thirtyOne =
        RequestHash.of(SubmitRequestParser.parse(Json.read(base + ",\"taskTimeout\":\"31s\"}")));

    assertThat(thirty).isNotEqualTo(thirtyOne).isNotEqualTo(plain);
    assertThat(
            RequestHash.of(
                SubmitRequestParser.parse(Json.read(base + ",\"taskTimeout\":\"PT30S\"}"))))
        .as("the same duration written another way is the same request")
        .isEqualTo(thirty);
    // The hash of a request without limits is what it was before limits existed.
    assertThat(plain)
        .isEqualTo(
            RequestHash.of(SubmitRequestParser.parse(Json.read(base + ",\"deadline\":null}"))));
  }

  private static TimeLimits parse(String json) {
    return TimeLimitsParser.parse(Json.read(json));
  }

  private static void assertRefused(String json, String field, String message) {
    ApiException e = catchThrowableOfType(ApiException.class, () -> parse(json));
    assertThat(e).as(json).isNotNull();
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.body().path("field").asText()).as(json).isEqualTo(field);
    assertThat(e.getMessage()).as(json).contains(message);
  }
}
