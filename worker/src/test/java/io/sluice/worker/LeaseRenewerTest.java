package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.json.Json;
import io.sluice.loop.MutableClock;
import io.sluice.store.ClaimedTask;
import io.sluice.store.TaskRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Lease renewal against fake leases, on a clock that moves only when told. */
class LeaseRenewerTest {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final UUID JOB = UUID.fromString("00000000-0000-0000-0000-000000000007");

  private final MutableClock clock = MutableClock.start();
  private final InFlight inFlight = new InFlight();
  private final Set<TaskRef> kept = new HashSet<>();
  private final List<List<ClaimedTask>> asked = new ArrayList<>();
  private volatile boolean unreachable;
  private final LeaseRenewer renewer =
      new LeaseRenewer(
          WorkerConfig.builder(
                  new DatabaseConfig("jdbc:postgresql://db/sluice", "u", null, 1),
                  RedisConfig.parse("redis://redis:6379", "sluice"))
              .lease(LEASE)
              .build(),
          (lease, claims) -> {
            asked.add(List.copyOf(claims));
            if (unreachable) {
              throw new IllegalStateException("PostgreSQL is unreachable");
            }
            return Set.copyOf(kept);
          },
          inFlight,
          new SimpleMeterRegistry(),
          clock);

  private RunningTask hold(int seq, long epoch) {
    RunningTask t =
        new RunningTask(new ClaimedTask(JOB, seq, 1, epoch, Json.object(), "noop", 3), "q", "1-0");
    inFlight.add(t);
    return t;
  }

  @Test
  void aTaskWhoseLeaseWasNotRenewedIsToldToStopAndNotAskedForAgain() {
    RunningTask kept0 = hold(0, 1);
    RunningTask lost1 = hold(1, 1);
    kept.add(new TaskRef(JOB, 0));

    renewer.renewOnce();
    renewer.renewOnce();

    assertThat(kept0.isCancelled()).isFalse();
    assertThat(lost1.isCancelled()).isTrue();
    assertThat(lost1.isLeaseLost()).isTrue();
    assertThat(asked.get(1)).as("the lost one is renewed no more").containsExactly(kept0.claim);
  }

  @Test
  void renewalFailingForLessThanTwoThirdsOfTheLeaseStopsNothing() {
    RunningTask t = hold(0, 1);
    unreachable = true;

    clock.advance(Duration.ofSeconds(20));
    renewer.renewOnce();

    assertThat(t.isCancelled()).isFalse();
    assertThat(renewer.healthy()).as("past half the lease").isFalse();
  }

  @Test
  void renewalFailingPastTwoThirdsOfTheLeaseStopsEveryHeldTaskBeforeItCanBeReclaimed() {
    RunningTask a = hold(0, 1);
    RunningTask b = hold(1, 1);
    unreachable = true;

    clock.advance(Duration.ofSeconds(21));
    renewer.renewOnce();

    assertThat(a.stopReason()).isEqualTo("lease renewal failed for 21000 ms");
    assertThat(b.isCancelled()).isTrue();
    assertThat(a.isLeaseLost()).as("it may still be kept: handed back, not abandoned").isFalse();

    unreachable = false;
    kept.add(new TaskRef(JOB, 0));
    kept.add(new TaskRef(JOB, 1));
    renewer.renewOnce();
    assertThat(renewer.healthy()).isTrue();
  }

  @Test
  void nothingHeldCountsAsASuccessWithoutAskingPostgres() {
    unreachable = true;
    clock.advance(Duration.ofMinutes(5));

    renewer.renewOnce();

    assertThat(asked).isEmpty();
    assertThat(renewer.healthy()).isTrue();
  }
}
