package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-token bucket against a fake clock. */
class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final RateLimiter limiter =
      new RateLimiter(new ApiLimits(2, 3, 0, Map.of()), metrics, nanos::get);

  @Test
  void aTokenMaySpendItsBurstAndThenWaitsForTheRefill() {
    for (int i = 0; i < 3; i++) {
      limiter.admit("team-a");
    }
    assertThatThrownBy(() -> limiter.admit("team-a"))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(429);
              assertThat(e.retryAfterSeconds()).isEqualTo(1);
              assertThat(e.body().get("error").asText()).contains("rate limit");
            });
    assertThat(metrics.counter("sluice_api_rate_limited_total").count()).isEqualTo(1);

    nanos.addAndGet(500_000_000L);
    limiter.admit("team-a");
    assertThat(limiter.tryTake("team-a")).as("half a second refills one of 2/s").isEqualTo(1);
  }

  @Test
  void eachTokenHasItsOwnBucketAndARefusalSpendsNothing() {
    for (int i = 0; i < 3; i++) {
      limiter.admit("team-a");
    }
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.tryTake("team-a")).isPositive();
    }
    limiter.admit("team-b");
    nanos.addAndGet(500_000_000L);
    limiter.admit("team-a");
  }

  @Test
  void anIdleTokenNeverSavesUpMoreThanItsBurst() {
    nanos.addAndGet(3_600_000_000_000L);
    for (int i = 0; i < 3; i++) {
      limiter.admit("team-a");
    }
    assertThat(limiter.tryTake("team-a")).isPositive();
  }

  @Test
  void aRateOfZeroTurnsTheLimitOff() {
    RateLimiter off = new RateLimiter(new ApiLimits(0, 1, 0, Map.of()), metrics, nanos::get);
    for (int i = 0; i < 1000; i++) {
      off.admit("team-a");
    }
  }
}
