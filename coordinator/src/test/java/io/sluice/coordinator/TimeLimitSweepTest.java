package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.store.PostgresTimeLimits.Expiry;
import io.sluice.store.PostgresTimeLimits.Overdue;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the leader writes for an attempt it times out: no I/O. */
class TimeLimitSweepTest {
  private static final UUID JOB = UUID.fromString("00000000-0000-0000-0000-000000000013");
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @Test
  void aTimedOutAttemptRetriesAfterItsJobsOwnBackoffWithoutJitter() {
    TimeLimits limits = new TimeLimits(TIMEOUT, null, Duration.ofSeconds(1), Duration.ofSeconds(3));

    Expiry second = TimeLimitSweep.expiry(new Overdue(JOB, 4, 7, 2, 5, TIMEOUT, limits));
    Expiry fourth = TimeLimitSweep.expiry(new Overdue(JOB, 4, 7, 4, 5, TIMEOUT, limits));

    assertThat(second.error()).isEqualTo("timed out after 30s");
    assertThat(second.leaseEpoch()).as("fenced by the epoch it found").isEqualTo(7);
    assertThat(second.retryDelayMs()).as("1 s × 2^(2-1)").isEqualTo(2000);
    assertThat(fourth.retryDelayMs()).as("capped at the job's max").isEqualTo(3000);
  }

  @Test
  void aJobWithoutItsOwnBackoffOrOnItsLastAttemptRetriesAtOnce() {
    TimeLimits limits = TimeLimits.NONE.withTaskTimeout(TIMEOUT);
    TimeLimits own = new TimeLimits(TIMEOUT, null, Duration.ofSeconds(1), Duration.ofSeconds(3));

    assertThat(TimeLimitSweep.expiry(new Overdue(JOB, 0, 1, 1, 3, TIMEOUT, limits)).retryDelayMs())
        .isZero();
    assertThat(TimeLimitSweep.expiry(new Overdue(JOB, 0, 1, 3, 3, TIMEOUT, own)).retryDelayMs())
        .as("the next claim fails it for good at once")
        .isZero();
  }
}
