package io.sluice.e2e;

import java.util.Random;

/**
 * Deterministic text for wordcount tests: a skewed vocabulary, punctuation, mixed case, accents.
 */
public final class Corpus {
  private static final String[] WORDS = {
    "Sluice",
    "job",
    "task",
    "redis",
    "postgres",
    "worker",
    "fan",
    "in",
    "exactly",
    "once",
    "lease",
    "fence",
    "Zürich",
    "naïve",
    "queue",
    "durable",
    "collector",
    "the",
    "a",
    "of"
  };

  private Corpus() {}

  public static String text(int lines, long seed) {
    Random random = new Random(seed);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      int n = 3 + random.nextInt(12);
      for (int w = 0; w < n; w++) {
        int k = (int) Math.min(WORDS.length - 1, Math.abs(random.nextGaussian()) * 6);
        sb.append(WORDS[k]).append(random.nextInt(10) == 0 ? ", " : " ");
      }
      sb.append(random.nextInt(5) == 0 ? "-- 42!\n" : ".\n");
    }
    return sb.toString();
  }
}
