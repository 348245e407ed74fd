package io.sluice.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void eachAttemptDoublesTheDelayUntilTheCap() {
    Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

    assertThat(IntStream.rangeClosed(1, 8).mapToLong(backoff::delayMillis).toArray())
        .containsExactly(100, 200, 400, 800, 1600, 3200, 5000, 5000);
  }

  @Test
  void aHugeAttemptNumberStaysAtTheCapInsteadOfOverflowing() {
    Backoff backoff = Backoff.exponential(Duration.ofSeconds(1), Duration.ofMinutes(5));

    assertThat(backoff.delayMillis(Integer.MAX_VALUE)).isEqualTo(300_000);
    assertThat(backoff.delayMillis(0)).as("attempt 0 counts as the first").isEqualTo(1_000);
  }

  @Test
  void jitterScalesTheCappedDelayWithinItsRange() {
    Backoff base = Backoff.exponential(Duration.ofMillis(100), Duration.ofMillis(400));

    assertThat(base.withJitter(0.5, 1.5).withRandom(FixedRandom.of(0)).delayMillis(2))
        .isEqualTo(100);
    assertThat(base.withJitter(0.5, 1.5).withRandom(FixedRandom.of(0.5)).delayMillis(2))
        .isEqualTo(200);
    assertThat(base.withJitter(0.5, 1.5).withRandom(FixedRandom.of(0.999)).delayMillis(5))
        .as("jitter applies after the cap")
        .isEqualTo(599);
    assertThat(base.withJitter(1, 2).withRandom(FixedRandom.of(0.25)).delayMillis(1))
        .isEqualTo(125);
  }

  @Test
  void attemptsCountConsecutiveFailuresAndStartOverAfterAReset() {
    Backoff.Attempts attempts =
        Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(250)).attempts();

    assertThat(attempts.nextMillis()).isEqualTo(10);
    assertThat(attempts.nextMillis()).isEqualTo(20);
    assertThat(attempts.nextMillis()).isEqualTo(40);
    attempts.reset();
    assertThat(attempts.nextMillis()).isEqualTo(10);
  }

  @Test
  void nonsensicalParametersAreRefused() {
    assertThatThrownBy(() -> Backoff.exponential(Duration.ofMillis(-1), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-0.001S");
    assertThatThrownBy(
            () -> Backoff.exponential(Duration.ofMillis(1), Duration.ofSeconds(1)).withJitter(2, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
