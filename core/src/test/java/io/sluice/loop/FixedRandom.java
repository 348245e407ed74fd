package io.sluice.loop;

import java.util.random.RandomGenerator;

/**
 * A random generator whose every double is one value, so a test knows the jitter it gets; shared
 * with other modules' tests (test-jar).
 */
public final class FixedRandom implements RandomGenerator {
  private final double value;

  private FixedRandom(double value) {
    this.value = value;
  }

  /** Every {@link #nextDouble()} returns {@code value}, in [0, 1). */
  public static FixedRandom of(double value) {
    return new FixedRandom(value);
  }

  @Override
  public long nextLong() {
    return (long) (value * Long.MAX_VALUE);
  }

  @Override
  public double nextDouble() {
    return value;
  }
}
