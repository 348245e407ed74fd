package io.sluice.builtin;

import static io.sluice.builtin.BuiltinRuns.payload;
import static io.sluice.builtin.BuiltinRuns.run;
import static io.sluice.builtin.BuiltinRuns.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Stage;
import io.sluice.json.Json;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class WordCountJobTypeTest {
  private static final String TEXT = "The cat, the hat.\nA cat sat\n\nthe end";

  @Test
  void withoutCountsTheResultIsTotalDistinctAndTopOnly() throws Exception {
    JsonNode result = wordcount("{\"text\": \"" + json(TEXT) + "\", \"linesPerTask\": 1}");
    assertThat(stored(result))
        .isEqualTo(
            Json.read(
                """
                {"totalWords": 9, "distinctWords": 6,
                 "top": [["the", 3], ["cat", 2], ["a", 1], ["end", 1], ["hat", 1], ["sat", 1]]}
                """));
  }

  @Test
  void withCountsTrueTheResultAlsoCountsEveryWord() throws Exception {
    JsonNode result =
        wordcount("{\"text\": \"" + json(TEXT) + "\", \"linesPerTask\": 2, \"counts\": true}");
    assertThat(stored(result.get("counts")))
        .isEqualTo(
            Json.read("{\"a\": 1, \"cat\": 2, \"end\": 1, \"hat\": 1, \"sat\": 1, \"the\": 3}"));
    assertThat(result.get("totalWords").asLong()).isEqualTo(9);
    assertThat(wordcount("{\"text\": \"a\", \"linesPerTask\": 1, \"counts\": false}").has("counts"))
        .isFalse();
  }

  @Test
  void countsThatIsNotABooleanIsRejectedNamingTheField() {
    for (String bad : List.of("\"true\"", "1", "[]", "{}")) {
      String body = "{\"text\": \"a\", \"linesPerTask\": 1, \"counts\": " + bad + "}";
      assertThatThrownBy(() -> new WordCountJobType().validate(payload(body)))
          .as(bad)
          .isInstanceOfSatisfying(
              InvalidPayloadException.class, e -> assertThat(e.field()).isEqualTo("counts"))
          .hasMessageContaining("true or false");
    }
  }

  static JsonNode wordcount(String payload) throws Exception {
    return run(new WordCountJobType(), Stage.main(UUID.randomUUID()), payload(payload));
  }

  static String json(String text) {
    return Json.write(text).substring(1, Json.write(text).length() - 1);
  }
}
