package io.sluice.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Collector.Outcomes;
import io.sluice.json.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The one definition of a word (a maximal run of letters, lower-cased) and of a word-count result,
 * shared by {@code wordcount} and {@code merge} so both answer in the same shape and order.
 */
public final class WordCounts {
  private WordCounts() {}

  public static Map<String, Integer> count(String text) {
    Map<String, Integer> counts = new HashMap<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      while (i < n && !Character.isLetter(text.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && Character.isLetter(text.charAt(i))) {
        i++;
      }
      if (i > start) {
        counts.merge(text.substring(start, i).toLowerCase(Locale.ROOT), 1, Integer::sum);
      }
    }
    return counts;
  }

  /**
   * The word-count result of a stage's outcomes ({@link #summary}): the counts of every succeeded
   * task summed, each failed one listed.
   *
   * @param countsOf the {@code {word: n}} object of a task's output
   */
  static ObjectNode collect(
      Outcomes outcomes, UnaryOperator<JsonNode> countsOf, int top, boolean withCounts) {
    Map<String, Long> merged = new HashMap<>();
    List<String> failures = new ArrayList<>();
    outcomes.forEach(
        o -> {
          if (o.succeeded()) {
            countsOf
                .apply(o.output())
                .fields()
                .forEachRemaining(e -> merged.merge(e.getKey(), e.getValue().asLong(), Long::sum));
          } else {
            failures.add("task " + o.seq() + ": " + o.error());
          }
        });
    return summary(merged, top, withCounts, failures);
  }

  /**
   * A word-count result: {@code {"totalWords", "distinctWords", "top": [[word, count], …]}}, the
   * {@code top} most frequent words first and ties by word; with {@code withCounts} also {@code
   * "counts": {word: n}} of every word, by word; {@code "failedTasks"} when any failed.
   */
  private static ObjectNode summary(
      Map<String, Long> merged, int top, boolean withCounts, List<String> failures) {
    ObjectNode result = Json.object();
    result.put("totalWords", merged.values().stream().mapToLong(Long::longValue).sum());
    result.put("distinctWords", merged.size());
    var topWords = result.putArray("top");
    merged.entrySet().stream()
        .sorted(
            Map.Entry.<String, Long>comparingByValue()
                .reversed()
                .thenComparing(Map.Entry.comparingByKey()))
        .limit(top)
        .forEach(e -> topWords.addArray().add(e.getKey()).add(e.getValue()));
    if (withCounts) {
      ObjectNode counts = result.putObject("counts");
      new TreeMap<>(merged).forEach(counts::put);
    }
    if (!failures.isEmpty()) {
      var list = result.putArray("failedTasks");
      failures.forEach(list::add);
    }
    return result;
  }
}
