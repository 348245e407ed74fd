package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's pipeline and its check of a merged result, without servers. */
class DemoPipelineTest {
  private static final Corpus CORPUS = Corpus.of("b a\nc b a\nd\nA a b\ne");

  @Test
  void theHalvesAreTheCorpusLinesCutNearTheMiddleAndCountToTheWhole() {
    List<String> halves = CORPUS.halves();
    assertThat(halves).containsExactly("b a\nc b a\n", "d\nA a b\ne");
    Map<String, Long> summed = new HashMap<>(Corpus.of(halves.get(0)).counts());
    Corpus.of(halves.get(1)).counts().forEach((w, n) -> summed.merge(w, n, Long::sum));
    assertThat(summed).isEqualTo(CORPUS.counts());
    List<String> bundled = Corpus.load().halves();
    assertThat(bundled.get(0) + bundled.get(1)).isEqualTo(Corpus.load().text());
    assertThat(bundled.get(0).lines().count() - bundled.get(1).lines().count()).isBetween(-1L, 1L);
  }

  @Test
  void thePipelineIsTwoWordcountStagesWithCountsOverTheHalvesJoinedByMerge() throws Exception {
    JsonNode body = DemoCommand.pipeline(CORPUS, 2).toJson();
    assertThat(body)
        .isEqualTo(
            CliClient.JSON.readTree(
                """
                {"stages": [
                  {"name": "left", "type": "wordcount",
                   "payload": {"text": "b a\\nc b a\\n", "linesPerTask": 2, "counts": true}},
                  {"name": "right", "type": "wordcount",
                   "payload": {"text": "d\\nA a b\\ne", "linesPerTask": 2, "counts": true}},
                  {"name": "total", "type": "merge", "dependsOn": ["left", "right"]}]}
                """));
  }

  @Test
  void aMergedResultMatchesOnlyWhenTotalsTopAndEveryCountAgreeWithTheLocalCount() throws Exception {
    ObjectNode right =
        (ObjectNode)
            CliClient.JSON.readTree(
                """
                {"totalWords": 10, "distinctWords": 5,
                 "top": [["a", 4], ["b", 3], ["c", 1], ["d", 1], ["e", 1]],
                 "counts": {"a": 4, "b": 3, "c": 1, "d": 1, "e": 1}}
                """);
    assertThat(check(right)).isTrue();

    ObjectNode miscounted = right.deepCopy();
    ((ObjectNode) miscounted.get("counts")).put("e", 2);
    assertThat(check(miscounted)).isFalse();
    ObjectNode missing = right.deepCopy();
    ((ObjectNode) missing.get("counts")).remove("d");
    assertThat(check(missing)).isFalse();
    assertThat(check(right.deepCopy().put("totalWords", 11))).isFalse();
  }

  private static boolean check(JsonNode result) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean ok =
        new ResultCheck(new PrintStream(bytes, true, StandardCharsets.UTF_8)).check(result, CORPUS);
    assertThat(bytes.toString(StandardCharsets.UTF_8)).contains(ok ? "match" : "MISMATCH");
    return ok;
  }
}
