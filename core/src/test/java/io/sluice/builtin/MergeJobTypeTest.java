package io.sluice.builtin;

import static io.sluice.builtin.BuiltinRuns.payload;
import static io.sluice.builtin.BuiltinRuns.run;
import static io.sluice.builtin.BuiltinRuns.split;
import static io.sluice.builtin.BuiltinRuns.stage;
import static io.sluice.builtin.BuiltinRuns.stored;
import static io.sluice.builtin.WordCountJobTypeTest.json;
import static io.sluice.builtin.WordCountJobTypeTest.wordcount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector.TaskOutcome;
import io.sluice.api.InvalidPayloadException;
import io.sluice.json.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class MergeJobTypeTest {
  private final MergeJobType merge = new MergeJobType();

  @Test
  void theMergeOfTwoWordcountResultsEqualsTheWordcountOfTheConcatenatedText() throws Exception {
    // Enough distinct words, with ties, that the top is cut and ties are ordered by word.
    String left =
        IntStream.range(0, 300)
            .mapToObj(i -> "w" + (char) ('a' + i % 26) + (char) ('a' + i % 7) + " the")
            .collect(Collectors.joining("\n"));
    String right =
        IntStream.range(0, 200)
            .mapToObj(i -> "W" + (char) ('a' + i % 13) + (char) ('a' + i % 5) + ", Der")
            .collect(Collectors.joining("\n"));
    Map<String, JsonNode> results = new LinkedHashMap<>();
    results.put("right", counted(right));
    results.put("left", counted(left));

    JsonNode merged = run(merge, stage("total", results), payload("{\"top\": 20}"));

    assertThat(merged).isEqualTo(counted(left + "\n" + right));
    assertThat(merged.get("top")).hasSize(20);
    assertThat(merged.get("totalWords").asLong())
        .isEqualTo(
            results.get("left").get("totalWords").asLong()
                + results.get("right").get("totalWords").asLong());
  }

  @Test
  void itSplitsOneTaskPerDependencyInNameOrderCarryingItsCounts() throws Exception {
    Map<String, JsonNode> results = new LinkedHashMap<>();
    results.put("zeta", Json.read("{\"counts\": {\"a\": 2}}"));
    results.put("alpha", Json.read("{\"counts\": {\"b\": 1}}"));

    List<JsonNode> inputs = split(merge, stage("total", results), payload("{}"));

    assertThat(inputs)
        .containsExactly(
            Json.read("{\"stage\": \"alpha\", \"counts\": {\"b\": 1}}"),
            Json.read("{\"stage\": \"zeta\", \"counts\": {\"a\": 2}}"));
  }

  @Test
  void aDependencyWithoutACountsObjectFailsTheSplitNamingTheStageAndTheFix() {
    for (String right :
        List.of(
            "{\"totalWords\": 1, \"distinctWords\": 1, \"top\": [[\"a\", 1]]}",
            "{\"counts\": [[\"a\", 1]]}",
            "null")) {
      Map<String, JsonNode> results =
          Map.of("left", Json.read("{\"counts\": {\"a\": 1}}"), "right", Json.read(right));

      assertThatThrownBy(() -> split(merge, stage("total", results), payload("{}")))
          .as(right)
          .isInstanceOf(InvalidPayloadException.class)
          .hasMessageContaining("\"right\"")
          .hasMessageContaining("\"counts\": true");
    }
  }

  @Test
  void withoutDependenciesItHasNoTasksAndCountsNothing() throws Exception {
    assertThat(split(merge, stage("total", Map.of()), payload("{}"))).isEmpty();
    assertThat(stored(run(merge, stage("total", Map.of()), payload("{}"))))
        .isEqualTo(
            Json.read("{\"totalWords\": 0, \"distinctWords\": 0, \"top\": [], \"counts\": {}}"));
  }

  @Test
  void topDefaultsToTenAndOutsideOneToAThousandIsRejectedNamingTheField() throws Exception {
    Map<String, JsonNode> results =
        Map.of("only", counted("a b c d e f g h i j k l m n o p q r s t u v w x y z"));
    assertThat(run(merge, stage("total", results), payload("{}")).get("top")).hasSize(10);
    for (String bad : List.of("0", "1001", "\"5\"", "2.5")) {
      assertThatThrownBy(() -> merge.validate(payload("{\"top\": " + bad + "}")))
          .as(bad)
          .isInstanceOfSatisfying(
              InvalidPayloadException.class, e -> assertThat(e.field()).isEqualTo("top"));
    }
  }

  @Test
  void theCollectorMergesOnlySucceededTasksAndListsTheFailedOnes() throws Exception {
    List<TaskOutcome> outcomes =
        List.of(
            new TaskOutcome(0, true, Json.read("{\"counts\": {\"a\": 2, \"b\": 1}}"), null),
            new TaskOutcome(1, false, null, "boom"),
            new TaskOutcome(2, true, Json.read("{\"counts\": {\"a\": 1}}"), null));

    JsonNode result =
        merge.collector().collect(stage("total", Map.of()), payload("{}"), outcomes::forEach);

    assertThat(stored(result))
        .isEqualTo(
            Json.read(
                """
                {"totalWords": 4, "distinctWords": 2, "top": [["a", 3], ["b", 1]],
                 "counts": {"a": 3, "b": 1}, "failedTasks": ["task 1: boom"]}
                """));
  }

  private static JsonNode counted(String text) throws Exception {
    return wordcount("{\"text\": \"" + json(text) + "\", \"linesPerTask\": 7, \"counts\": true}");
  }
}
