package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/** Prints a wordcount result and compares it with the count made locally. */
final class ResultCheck {
  private final PrintStream out;

  ResultCheck(PrintStream out) {
    this.out = out;
  }

  /**
   * @return whether total, distinct count and every reported top count equal the local ones
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
    return totalOk && distinctOk && topOk;
  }

  private static String verdict(boolean ok) {
    return ok ? "match" : "MISMATCH";
  }
}
