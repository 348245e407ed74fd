package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/**
 * p50, p95, p99 and max of a set of measurements by the nearest-rank method: the p-th percentile is
 * the smallest value with at least p % of the values at or below it. No interpolation, so every
 * figure printed is one that was measured.
 */
record Percentiles(int count, double p50, double p95, double p99, double max) {

  /** Of {@code values} (milliseconds, any order); all -1 when there are none. */
  static Percentiles of(double[] values) {
    if (values.length == 0) {
      return new Percentiles(0, -1, -1, -1, -1);
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return new Percentiles(
        sorted.length,
        rank(sorted, 0.50),
        rank(sorted, 0.95),
        rank(sorted, 0.99),
        sorted[sorted.length - 1]);
  }

  /** The nearest-rank percentile {@code q} (0–1] of ascending {@code sorted}. */
  static double rank(double[] sorted, double q) {
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** {@code {"n", "p50_ms", "p95_ms", "p99_ms", "max_ms"}}, rounded to 0.1 ms. */
  ObjectNode toJson() {
    return CliClient.JSON
        .createObjectNode()
        .put("n", count)
        .put("p50_ms", round(p50))
        .put("p95_ms", round(p95))
        .put("p99_ms", round(p99))
        .put("max_ms", round(max));
  }

  static double round(double ms) {
    return Math.round(ms * 10) / 10.0;
  }
}
