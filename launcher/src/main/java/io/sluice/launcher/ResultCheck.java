package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Prints a wordcount or merge result and compares it with the count made locally. */
final class ResultCheck {
  private final PrintStream out;

  ResultCheck(PrintStream out) {
    this.out = out;
  }

  /**
   * @return whether total, distinct count, every reported top count and, when the result has {@code
   *     counts}, every word's count equal the local ones
   */
  boolean check(JsonNode result, Corpus corpus) {
    long total = result.path("totalWords").asLong(-1);
    long distinct = result.path("distinctWords").asLong(-1);
    boolean totalOk = total == corpus.totalWords();
    boolean distinctOk = distinct == corpus.counts().size();
    out.printf(
        "  totalWords     %,12d   local count %,d: %s%n",
        total, corpus.totalWords(), verdict(totalOk));
    out.printf(
        "  distinctWords  %,12d   local count %,d: %s%n",
        distinct, corpus.counts().size(), verdict(distinctOk));
    out.println("  top 10:");
    boolean topOk = result.path("top").isArray() && !result.path("top").isEmpty();
    int rank = 0;
    for (JsonNode entry : result.path("top")) {
      if (++rank > 10) {
        break;
      }
      String word = entry.path(0).asText();
      long count = entry.path(1).asLong(-1);
      long local = corpus.counts().getOrDefault(word, 0L);
      topOk &= count == local;
      out.printf(
          "    %2d. %-16s %,9d%s%n",
          rank, word, count, count == local ? "" : "   (local " + local + ")");
    }
    if (!topOk) {
      out.println("  the top words do not match the local count (expected " + corpus.top(10) + ")");
    }
    return totalOk && distinctOk && topOk && countsOk(result.path("counts"), corpus);
  }

  /** Every word's count, when the result lists them (a {@code merge} or {@code counts: true}). */
  private boolean countsOk(JsonNode counts, Corpus corpus) {
    if (!counts.isObject()) {
      return true;
    }
    List<String> wrong = new ArrayList<>();
    counts
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().asLong(-1) != corpus.counts().getOrDefault(e.getKey(), 0L)) {
                wrong.add(e.getKey());
              }
            });
    corpus.counts().keySet().stream().filter(w -> !counts.has(w)).forEach(wrong::add);
    out.printf(
        "  counts         %,12d words  local count %,d: %s%n",
        counts.size(), corpus.counts().size(), verdict(wrong.isEmpty()));
    if (!wrong.isEmpty()) {
      out.println("  words counted differently: " + wrong.subList(0, Math.min(10, wrong.size())));
    }
    return wrong.isEmpty();
  }

  private static String verdict(boolean ok) {
    return ok ? "match" : "MISMATCH";
  }
}
