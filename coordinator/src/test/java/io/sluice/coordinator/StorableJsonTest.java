package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sluice.json.Json;
import org.junit.jupiter.api.Test;

class StorableJsonTest {
  @Test
  void aNulAnywhereIsRefusedNamingItsField() {
    assertThat(field("{\"payload\":{\"text\":\"a\\u0000b\"}}")).isEqualTo("payload.text");
    assertThat(field("{\"idempotencyKey\":\"\\u0000\"}")).isEqualTo("idempotencyKey");
    assertThat(field("{\"labels\":{\"team\":\"x\\u0000\"}}")).isEqualTo("labels.team");
    assertThat(field("{\"payload\":{\"a\":[1,{\"b\":\"\\u0000\"}]}}")).isEqualTo("payload.a[1].b");
  }

  @Test
  void aNulInAFieldNameNamesTheObjectHoldingIt() {
    assertThat(field("{\"payload\":{\"x\\u0000y\":1}}")).isEqualTo("payload");
    assertThat(field("{\"\\u0000\":1}")).isEqualTo("(a field name)");
  }

  @Test
  void loneSurrogatesAreRefusedAndPairsAreKept() {
    assertThat(field("{\"payload\":{\"t\":\"\\ud800\"}}")).isEqualTo("payload.t");
    assertThat(field("{\"payload\":{\"t\":\"x\\udc00\"}}")).isEqualTo("payload.t");
    assertThat(field("{\"payload\":{\"t\":\"\\ud800x\"}}")).isEqualTo("payload.t");
    assertThatCode(() -> StorableJson.check(Json.read("{\"t\":\"\\ud83d\\ude00 ok\"}")))
        .doesNotThrowAnyException();
  }

  @Test
  void numbersBeyondADoubleAreRefusedAndOrdinaryOnesKept() {
    assertThat(field("{\"payload\":{\"n\":1e400}}")).isEqualTo("payload.n");
    assertThat(field("{\"payload\":{\"n\":-1e400}}")).isEqualTo("payload.n");
    assertThatCode(
            () ->
                StorableJson.check(
                    Json.read("{\"a\":1e300,\"b\":1e-400,\"c\":123456789012345678901234567890}")))
        .doesNotThrowAnyException();
  }

  @Test
  void theRefusalNeverRepeatsTheOffendingText() {
    ApiException e =
        catchThrowableOfType(
            ApiException.class,
            () -> StorableJson.check(Json.read("{\"payload\":{\"t\":\"secret\\u0000\"}}")));
    assertThat(e.status()).isEqualTo(400);
    assertThat(Json.write(e.body())).doesNotContain("secret").contains("NUL");
  }

  private static String field(String json) {
    ApiException e =
        catchThrowableOfType(ApiException.class, () -> StorableJson.check(Json.read(json)));
    assertThat(e).as(json).isNotNull();
    assertThat(e.status()).isEqualTo(400);
    return e.body().get("field").asText();
  }
}
