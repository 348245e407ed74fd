package io.sluice.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: base × 2^(attempt-1), capped, times a random factor in [0.5,
 * 1.5).
 */
final class RetryPolicy {
  private final Duration base;
  private final Duration max;

  RetryPolicy(Duration base, Duration max) {
    this.base = base;
    this.max = max;
  }

  long delayMs(int attempt) {
    long exp = base.toMillis() << Math.min(Math.max(attempt - 1, 0), 20);
    long capped = Math.min(exp, max.toMillis());
    return (long) (capped * (0.5 + ThreadLocalRandom.current().nextDouble()));
  }
}
