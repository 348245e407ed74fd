package io.sluice.client;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How {@link SluiceClient#update} retries: at most {@code maxAttempts} tries, waiting between them
 * an exponentially growing delay ({@code initialBackoff} × 2^(n-1), at most {@code maxBackoff})
 * with full jitter, so clients that collided do not collide again in step; never less than a {@code
 * Retry-After} the server asked for.
 */
public record RetryOnConflict(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
  public static final RetryOnConflict DEFAULT =
      new RetryOnConflict(8, Duration.ofMillis(20), Duration.ofSeconds(2));

  public RetryOnConflict {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "backoff must satisfy 0 <= initialBackoff <= maxBackoff, got "
              + initialBackoff
              + " and "
              + maxBackoff);
    }
  }

  /** The wait before try {@code attempt + 1}, after try {@code attempt} (1-based) failed. */
  public Duration backoff(int attempt, Duration retryAfter, RandomGenerator random) {
    long ceiling = initialBackoff.toMillis() << Math.min(Math.max(attempt - 1, 0), 20);
    long capped = Math.min(ceiling, maxBackoff.toMillis());
    long jittered = capped <= 0 ? 0 : random.nextLong(capped + 1);
    long floor = retryAfter == null ? 0 : retryAfter.toMillis();
    return Duration.ofMillis(Math.max(jittered, floor));
  }
}
