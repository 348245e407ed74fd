package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.health.LoopSpec;
import io.sluice.health.LoopSupervisor;
import io.sluice.loop.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Leader election against a fake lock and a fake leader table that behave as Redisson and
 * PostgreSQL do, on a clock that moves only when told.
 */
class LeaderElectionTest {
  private static final Duration LEASE = Duration.ofSeconds(5);

  private final MutableClock clock = MutableClock.start();
  private final FakeLeaderLock lock = new FakeLeaderLock();
  private final FakeLeaderStore store = new FakeLeaderStore(clock);
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final LeaderElection election =
      new LeaderElection("me", LEASE, store, lock, clock, metrics);

  @Test
  void aCandidateHoldingTheLockWhoseRivalsLeaseRanOutBecomesLeader() {
    election.tick();

    assertThat(election.isLeader()).isTrue();
    assertThat(election.epoch()).isEqualTo(1);
    assertThat(metrics.get("sluice_coordinator_leader").gauge().value()).isEqualTo(1);
  }

  @Test
  void aCandidateWaitsOutTheLastLeadersLeaseInPostgresAndGivesTheLockBack() {
    store.holder = "other";
    store.epoch = 7;
    store.expires = clock.instant().plus(LEASE);

    election.tick();

    assertThat(election.isLeader()).isFalse();
    assertThat(lock.holder).as("released for the rightful leader").isNull();
    clock.advance(LEASE.plusMillis(1));
    election.tick();
    assertThat(election.epoch()).isEqualTo(8);
  }

  @Test
  void aCandidateWithoutTheLockDoesNotTouchPostgres() {
    lock.holder = "other";

    election.tick();

    assertThat(election.isLeader()).isFalse();
    assertThat(store.calls).isZero();
    assertThat(metrics.get("sluice_lock_waits_total").counter().count()).isEqualTo(1);
  }

  @Test
  void aLeaderThatLosesTheLockStepsDownAndItsFencedWritesAreRefused() {
    election.tick();
    lock.holder = "other";

    election.tick();

    assertThat(election.isLeader()).isFalse();
    assertThatThrownBy(() -> election.fenced(c -> "written"))
        .isInstanceOf(LeaderElection.NotLeaderException.class);
  }

  @Test
  void aLeaderWhoseEpochWasSupersededStepsDownAndReleasesTheLock() {
    election.tick();
    store.epoch++;

    election.tick();

    assertThat(election.isLeader()).isFalse();
    assertThat(lock.holder).isNull();
  }

  @Test
  void aLeaderThatCannotReachPostgresStepsDown() {
    election.tick();
    store.failing = true;

    election.tick();

    assertThat(election.isLeader()).isFalse();
    assertThat(lock.holder).isNull();
  }

  @Test
  void fencedWorkRunsUnderTheCurrentEpochAndNotAfterADeposition() {
    election.tick();
    assertThat(election.<String>fenced(c -> "written")).isEqualTo("written");

    store.holder = "usurper";
    assertThatThrownBy(() -> election.fenced(c -> "late"))
        .isInstanceOf(LeaderElection.NotLeaderException.class)
        .hasMessageContaining("coordinator me is not the leader");
  }

  @Test
  void unbrokenContactRestartsAfterARenewalThatCameLaterThanTheLease() {
    assertThat(election.unbrokenContact()).isZero();
    election.tick();
    clock.advance(Duration.ofSeconds(2));
    election.tick();
    assertThat(election.unbrokenContact()).isEqualTo(Duration.ofSeconds(2));

    clock.advance(LEASE.plusSeconds(1));
    store.expires = null;
    election.tick();
    assertThat(election.isLeader()).isTrue();
    assertThat(election.unbrokenContact()).as("PostgreSQL was out of reach").isZero();
    clock.advance(Duration.ofSeconds(1));
    assertThat(election.unbrokenContact()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void theLeaderLoopResignsWhenStoppedFromTheThreadThatHoldsTheLock() throws Exception {
    try (LoopSupervisor loops = new LoopSupervisor(clock, metrics)) {
      LoopSupervisor.Loop loop =
          loops.start(LoopSpec.of("leader-election", election).reported(false));
      await().until(election::isLeader);

      loop.stop().join(Duration.ofSeconds(5));

      assertThat(election.isLeader()).isFalse();
      assertThat(store.holder).as("resigned in PostgreSQL").isNull();
      assertThat(lock.holder).isNull();
      assertThat(lock.threads).as("every lock call from one thread").hasSize(1);
    }
  }
}
