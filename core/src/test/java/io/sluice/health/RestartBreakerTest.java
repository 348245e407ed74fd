package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.loop.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RestartBreakerTest {
  private final MutableClock clock = MutableClock.start();
  private final RestartBreaker breaker = new RestartBreaker(clock);

  @Test
  void fiveFailedRunsInARowStopRestartsForThirtySecondsOnTheInjectedClock() {
    for (int i = 1; i < RestartBreaker.THRESHOLD; i++) {
      breaker.failed();
      assertThat(breaker.allows()).as("after %d failures", i).isTrue();
    }
    breaker.failed();
    assertThat(breaker.allows()).isFalse();

    clock.advance(RestartBreaker.OPEN_FOR.minusMillis(1));
    assertThat(breaker.allows()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(breaker.allows()).isTrue();
  }

  @Test
  void progressClosesTheBreakerAndStartsTheCountAgain() {
    for (int i = 0; i < RestartBreaker.THRESHOLD; i++) {
      breaker.failed();
    }
    breaker.succeeded();
    assertThat(breaker.allows()).isTrue();
    for (int i = 1; i < RestartBreaker.THRESHOLD; i++) {
      breaker.failed();
    }
    assertThat(breaker.allows()).as("four failures after a success").isTrue();
  }
}
