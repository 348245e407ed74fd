package io.sluice.loop;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with a cap and optional jitter, the one used everywhere a step is retried or
 * a loop restarted: attempt n waits {@code initial × 2^(n-1)}, at most {@code max}, times a random
 * factor drawn uniformly from {@code [jitterLow, jitterHigh)}. Without jitter the factor is 1. It
 * computes delays only; the caller sleeps, so tests can ask for the delays without waiting.
 */
public final class Backoff {
  /** Doubling stops here; every cap in use is reached well before. */
  private static final int MAX_EXPONENT = 20;

  private final long initialMillis;
  private final long maxMillis;
  private final double jitterLow;
  private final double jitterHigh;
  private final Supplier<RandomGenerator> random;

  private Backoff(
      long initialMillis,
      long maxMillis,
      double jitterLow,
      double jitterHigh,
      Supplier<RandomGenerator> random) {
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.jitterLow = jitterLow;
    this.jitterHigh = jitterHigh;
    this.random = random;
  }

  /** Doubling from {@code initial} up to {@code max}, without jitter. */
  public static Backoff exponential(Duration initial, Duration max) {
    if (initial.isNegative() || max.isNegative()) {
      throw new IllegalArgumentException(
          "backoff needs initial and max >= 0, got " + initial + " and " + max);
    }
    return new Backoff(initial.toMillis(), max.toMillis(), 1, 1, ThreadLocalRandom::current);
  }

  /** This backoff with each delay multiplied by a random factor in {@code [low, high)}. */
  public Backoff withJitter(double low, double high) {
    if (low < 0 || high < low) {
      throw new IllegalArgumentException(
          "jitter needs 0 <= low <= high, got [" + low + ", " + high + ")");
    }
    return new Backoff(initialMillis, maxMillis, low, high, random);
  }

  /** This backoff drawing its jitter from {@code random} (tests pass a seeded or fixed one). */
  public Backoff withRandom(RandomGenerator random) {
    return new Backoff(initialMillis, maxMillis, jitterLow, jitterHigh, () -> random);
  }

  /** The delay before retry number {@code attempt} (1 for the first retry), in milliseconds. */
  public long delayMillis(int attempt) {
    long capped =
        Math.min(initialMillis << Math.min(Math.max(attempt - 1, 0), MAX_EXPONENT), maxMillis);
    if (jitterLow == 1 && jitterHigh == 1) {
      return capped;
    }
    double factor = jitterLow + random.get().nextDouble() * (jitterHigh - jitterLow);
    return (long) (capped * factor);
  }

  /** The delay before retry number {@code attempt} (1 for the first retry). */
  public Duration delay(int attempt) {
    return Duration.ofMillis(delayMillis(attempt));
  }

  /** A fresh count of consecutive failures for one retry sequence. */
  public Attempts attempts() {
    return new Attempts(this);
  }

  /**
   * Consecutive failures of one sequence: each {@link #next} is the delay after one more failure,
   * {@link #reset} starts over after a success. Not thread-safe: one loop owns it.
   */
  public static final class Attempts {
    private final Backoff backoff;
    private int failures;

    private Attempts(Backoff backoff) {
      this.backoff = backoff;
    }

    /** Counts one more failure and returns how long to wait before trying again, in ms. */
    public long nextMillis() {
      if (failures < Integer.MAX_VALUE) {
        failures++;
      }
      return backoff.delayMillis(failures);
    }

    /** Starts the sequence over. */
    public void reset() {
      failures = 0;
    }
  }
}
