package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sluice.coordinator.SubmitRequest.StageRequest;
import io.sluice.json.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagesParserTest {

  @Test
  void stagesComeInATopologicalOrderThatKeepsTheRequestsOrderWhereTheGraphAllows() {
    List<StageRequest> stages =
        parse(
            "[{\"name\":\"join\",\"type\":\"t\",\"dependsOn\":[\"b\",\"a\"]},"
                + "{\"name\":\"b\",\"type\":\"t\",\"dependsOn\":[\"a\"]},"
                + "{\"name\":\"a\",\"type\":\"t\"},"
                + "{\"name\":\"z\",\"type\":\"t\"}]");

    assertThat(stages).extracting(StageRequest::name).containsExactly("a", "z", "b", "join");
    assertThat(stages.get(3).dependsOn()).containsExactly("b", "a");
  }

  @Test
  void aStageTakesTheJobsQueueAndPolicyUnlessItNamesItsOwn() {
    List<StageRequest> stages =
        parse(
            "[{\"name\":\"a\",\"type\":\"t\"},"
                + "{\"name\":\"b\",\"type\":\"t\",\"queue\":\"gpu\",\"onTaskFailure\":\"continue\"}]");

    assertThat(stages.get(0).queue()).isEqualTo("jobq");
    assertThat(stages.get(0).onTaskFailure()).isEqualTo("fail");
    assertThat(stages.get(0).payload().isObject()).as("payload defaults to {}").isTrue();
    assertThat(stages.get(1).queue()).isEqualTo("gpu");
    assertThat(stages.get(1).onTaskFailure()).isEqualTo("continue");
  }

  @Test
  void aCycleIsRefusedNamingOneOfItsStagesAndTheCycle() {
    ApiException e =
        refused(
            "[{\"name\":\"a\",\"type\":\"t\"},"
                + "{\"name\":\"b\",\"type\":\"t\",\"dependsOn\":[\"a\",\"d\"]},"
                + "{\"name\":\"c\",\"type\":\"t\",\"dependsOn\":[\"b\"]},"
                + "{\"name\":\"d\",\"type\":\"t\",\"dependsOn\":[\"c\"]}]");

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.body().get("error").asText()).endsWith("the stages form a cycle: b → d → c → b");
    assertThat(e.body().get("stage").asText()).isEqualTo("b");
    assertThat(e.body().get("field").asText()).isEqualTo("stages[1].dependsOn");
  }

  @Test
  void eachMistakeIsRefusedNamingTheStageAndField() {
    assertRefused("{}", "stages", null);
    assertRefused("[]", "stages", null);
    assertRefused("[7]", "stages[0]", null);
    assertRefused("[{\"type\":\"t\"}]", "stages[0].name", null);
    assertRefused("[{\"name\":\"-a\",\"type\":\"t\"}]", "stages[0].name", null);
    assertRefused("[{\"name\":\"a\"}]", "stages[0].type", "a");
    assertRefused("[{\"name\":\"a\",\"type\":\"t\",\"extra\":1}]", "stages[0].extra", "a");
    assertRefused("[{\"name\":\"a\",\"type\":\"t\",\"payload\":[]}]", "stages[0].payload", "a");
    assertRefused(
        "[{\"name\":\"a\",\"type\":\"t\",\"dependsOn\":\"b\"}]", "stages[0].dependsOn", "a");
    assertRefused(
        "[{\"name\":\"a\",\"type\":\"t\",\"dependsOn\":[\"a\"]}]", "stages[0].dependsOn", "a");
    assertRefused(
        "[{\"name\":\"a\",\"type\":\"t\"},{\"name\":\"b\",\"type\":\"t\",\"dependsOn\":[\"a\",\"a\"]}]",
        "stages[1].dependsOn",
        "b");
    assertRefused(
        "[{\"name\":\"a\",\"type\":\"t\",\"onTaskFailure\":\"retry\"}]",
        "stages[0].onTaskFailure",
        "a");
    StringBuilder many = new StringBuilder("[");
    for (int i = 0; i <= StagesParser.MAX_STAGES; i++) {
      many.append(i == 0 ? "" : ",").append("{\"name\":\"s").append(i).append("\",\"type\":\"t\"}");
    }
    assertRefused(many.append(']').toString(), "stages", null);
  }

  private static List<StageRequest> parse(String stages) {
    return StagesParser.parse(Json.read(stages), "jobq", "fail");
  }

  private static ApiException refused(String stages) {
    return catchThrowableOfType(ApiException.class, () -> parse(stages));
  }

  private static void assertRefused(String stages, String field, String stage) {
    ApiException e = refused(stages);
    assertThat(e).as(stages).isNotNull();
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.body().get("field").asText()).as(stages).isEqualTo(field);
    if (stage != null) {
      assertThat(e.body().get("stage").asText()).as(stages).isEqualTo(stage);
    }
  }
}
