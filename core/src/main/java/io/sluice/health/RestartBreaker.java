package io.sluice.health;

import java.time.Clock;
import java.time.Duration;

/**
 * Stops restarting a loop whose last {@link #THRESHOLD} runs all failed, for {@link #OPEN_FOR}
 * measured on the supervisor's clock; then restarts are allowed again, and another {@link
 * #THRESHOLD} failures in a row open it again. A run that makes progress closes it.
 */
final class RestartBreaker {
  static final int THRESHOLD = 5;
  static final Duration OPEN_FOR = Duration.ofSeconds(30);

  private final Clock clock;
  private int failures;
  private long openUntilMillis = Long.MIN_VALUE;

  RestartBreaker(Clock clock) {
    this.clock = clock;
  }

  /** One run of the loop failed (died or stalled). */
  synchronized void failed() {
    if (++failures >= THRESHOLD) {
      failures = 0;
      openUntilMillis = clock.millis() + OPEN_FOR.toMillis();
    }
  }

  /** The loop made progress. */
  synchronized void succeeded() {
    failures = 0;
    openUntilMillis = Long.MIN_VALUE;
  }

  /** Whether a restart may be tried now. */
  synchronized boolean allows() {
    return clock.millis() >= openUntilMillis;
  }
}
