package io.sluice.worker;

import io.sluice.loop.Backoff;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How long a task waits before its next attempt: base × 2^(attempt-1), capped, times a random
 * factor in [0.5, 1.5) so that tasks failing together do not retry together.
 */
final class RetryPolicy {
  private final Backoff backoff;
  private final RandomGenerator random;

  RetryPolicy(Duration base, Duration max) {
    this.backoff = Backoff.exponential(base, max).withJitter(0.5, 1.5);
    this.random = null;
  }

  /** With the jitter drawn from {@code random}. */
  RetryPolicy(Duration base, Duration max, RandomGenerator random) {
    this.backoff = Backoff.exponential(base, max).withJitter(0.5, 1.5).withRandom(random);
    this.random = random;
  }

  /** The policy for a task of a job with {@code limits}: its own base and max, or this one. */
  RetryPolicy of(TimeLimits limits) {
    if (limits.retryBase() == null) {
      return this;
    }
    return random == null
        ? new RetryPolicy(limits.retryBase(), limits.retryMax())
        : new RetryPolicy(limits.retryBase(), limits.retryMax(), random);
  }

  /** The delay after failed attempt number {@code attempt} (1 for the first). */
  long delayMs(int attempt) {
    return backoff.delayMillis(attempt);
  }
}
