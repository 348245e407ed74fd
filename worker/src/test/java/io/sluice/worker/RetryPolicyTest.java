package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.loop.FixedRandom;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  @Test
  void theDelayDoublesPerAttemptFromTheBaseUpToTheMax() {
    RetryPolicy policy =
        new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(5), FixedRandom.of(0.5));

    assertThat(policy.delayMs(1)).isEqualTo(1_000);
    assertThat(policy.delayMs(2)).isEqualTo(2_000);
    assertThat(policy.delayMs(3)).isEqualTo(4_000);
    assertThat(policy.delayMs(4)).as("capped").isEqualTo(5_000);
    assertThat(policy.delayMs(60)).isEqualTo(5_000);
  }

  @Test
  void jitterSpreadsEachDelayOverHalfToOneAndAHalfTimesIt() {
    RetryPolicy policy =
        new RetryPolicy(Duration.ofMillis(100), Duration.ofMinutes(5), new SplittableRandom(7));

    for (int attempt = 1; attempt <= 12; attempt++) {
      long nominal = Math.min(100L << (attempt - 1), 300_000);
      for (int i = 0; i < 200; i++) {
        assertThat(policy.delayMs(attempt)).isBetween(nominal / 2, nominal * 3 / 2 - 1);
      }
    }
    assertThat(
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), FixedRandom.of(0))
                .delayMs(1))
        .isEqualTo(500);
    assertThat(
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(1), FixedRandom.of(0.999))
                .delayMs(1))
        .isEqualTo(1_499);
  }
}
