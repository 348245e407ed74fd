package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ApiTokens;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.loop.MutableClock;
import io.sluice.queue.Delivery;
import io.sluice.redis.PriorityBand;
import io.sluice.store.PostgresJobRepair.Cursor;
import io.sluice.store.PostgresJobRepair.Found;
import io.sluice.store.PostgresJobRepair.Kind;
import io.sluice.store.PostgresTaskRecovery.Stranded;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * One sweep at a time against a fake store and the in-memory queue protocol, with a real leader
 * election over fake lock and leader row; leases, contact and idle entries run on a clock that
 * moves only when told.
 */
class SweeperTest {
  private static final Duration LEASE = Duration.ofSeconds(5);
  private static final Duration DEAD_AFTER = Duration.ofSeconds(15);
  private static final Duration REAP_IDLE = Duration.ofSeconds(60);

  private final MutableClock clock = MutableClock.start();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final FakeLeaderStore leaderRow = new FakeLeaderStore(clock);
  private final LeaderElection leader =
      new LeaderElection("me", LEASE, leaderRow, new FakeLeaderLock(), clock, metrics);
  private final FakeSweepStore store = new FakeSweepStore();
  private final FakeCoordinatorRedis redis = new FakeCoordinatorRedis(clock);
  private final List<String> repaired = new ArrayList<>();
  private UUID unrepairable;
  private final Sweeper sweeper =
      new Sweeper(
          store,
          CoordinatorConfig.builder(
                  new DatabaseConfig("jdbc:postgresql://db/sluice", "u", null, 1),
                  RedisConfig.parse("redis://redis:6379", "sluice"),
                  ApiTokens.parse("tenant-a:token-0123456789abcdef"))
              .dispatchGrace(Duration.ofSeconds(30))
              .collectGrace(Duration.ofSeconds(2))
              .collectingGrace(Duration.ofSeconds(60))
              .leaderLease(LEASE)
              .reapIdle(REAP_IDLE)
              .nodeDeadAfter(DEAD_AFTER)
              .build(),
          redis,
          new Sweeper.Repairs() {
            @Override
            public void redispatch(UUID jobId) {
              repaired.add("redispatch " + jobId);
            }

            @Override
            public void collect(UUID jobId) {
              if (jobId.equals(unrepairable)) {
                throw new IllegalStateException("the collector's pool is full");
              }
              repaired.add("collect " + jobId);
            }

            @Override
            public void rebuildIfLost() {
              repaired.add("rebuild");
            }

            @Override
            public void advance(UUID pipelineId) {
              repaired.add("advance " + pipelineId);
            }
          },
          leader,
          metrics);

  private static UUID job(int n) {
    return new UUID(0, n);
  }

  private Found found(int n) {
    return new Found(job(n), new Cursor(clock.instant().plusSeconds(n), job(n)));
  }

  private static Stranded stranded(UUID jobId, int seq, int priority) {
    return new Stranded(jobId, seq, 1, "worker-gone", "q", priority);
  }

  /** Becomes leader, then renews every second for {@code contact}. */
  private void leadFor(Duration contact) {
    leader.tick();
    keepContact(contact);
  }

  private void keepContact(Duration contact) {
    for (long s = 0; s < contact.toSeconds(); s++) {
      clock.advance(Duration.ofSeconds(1));
      leader.tick();
    }
  }

  private double count(String counter) {
    return metrics.counter(counter).count();
  }

  @Test
  void aCoordinatorThatIsNotTheLeaderSweepsNothing() {
    store.stalled.put(Kind.UNCOLLECTED, List.of(found(1)));
    store.expiredLeases.add(stranded(job(2), 0, 0));
    store.activeQueues.add("q");

    sweeper.sweepOnce();

    assertThat(store.calls).isEmpty();
    assertThat(repaired).isEmpty();
  }

  @Test
  void eachKindOfStalledJobGetsItsRepairAfterItsOwnGrace() {
    leadFor(Duration.ZERO);
    store.stalled.put(Kind.UNCOLLECTED, List.of(found(1)));
    store.stalled.put(Kind.STALE_COLLECTING, List.of(found(2)));
    store.stalled.put(Kind.DUE, List.of(found(3)));
    store.stalled.put(Kind.UNDISPATCHED, List.of(found(4)));
    store.stalled.put(Kind.NOT_PROGRESSING, List.of(found(5), found(6)));
    store.stalled.put(Kind.UNADVANCED, List.of(found(7)));
    // Job 5's only entry was read by a worker: nothing left to hand out. Job 6's waits unread.
    store.queues.put(job(5), "q5");
    store.queues.put(job(6), "q6");
    redis.enqueue("q5", job(5), new int[] {0});
    redis.fetch("q5", "w", 1, null);
    redis.enqueue("q6", job(6), new int[] {0});

    sweeper.sweepOnce();

    assertThat(repaired)
        .containsExactly(
            "rebuild",
            "collect " + job(1),
            "collect " + job(2),
            "redispatch " + job(3),
            "redispatch " + job(4),
            "redispatch " + job(5),
            "advance " + job(7));
    assertThat(store.touched)
        .as("their dispatch grace starts over")
        .containsExactly(job(4), job(5));
    assertThat(store.graces)
        .containsEntry(Kind.UNCOLLECTED, Duration.ofSeconds(2))
        .containsEntry(Kind.STALE_COLLECTING, Duration.ofSeconds(60))
        .containsEntry(Kind.DUE, Duration.ZERO)
        .containsEntry(Kind.UNDISPATCHED, Duration.ofSeconds(30))
        .containsEntry(Kind.NOT_PROGRESSING, Duration.ofSeconds(30))
        .containsEntry(Kind.UNADVANCED, Duration.ofSeconds(2));
  }

  @Test
  void aFullPageIsFollowedByTheNextAndAShortPageStartsOver() {
    leadFor(Duration.ZERO);
    List<Found> many = new ArrayList<>();
    for (int n = 1; n <= 101; n++) {
      many.add(found(n));
    }
    store.stalled.put(Kind.UNCOLLECTED, many);

    sweeper.sweepOnce();
    sweeper.sweepOnce();
    sweeper.sweepOnce();

    assertThat(store.calls.stream().filter(c -> c.startsWith("stalled UNCOLLECTED")))
        .containsExactly(
            "stalled UNCOLLECTED after " + Cursor.START.id(),
            "stalled UNCOLLECTED after " + job(100),
            "stalled UNCOLLECTED after " + Cursor.START.id());
    assertThat(repaired.stream().filter(r -> r.startsWith("collect"))).hasSize(100 + 1 + 100);
  }

  @Test
  void aJobThatCannotBeRepairedDoesNotKeepTheOthersFromRepair() {
    leadFor(Duration.ZERO);
    unrepairable = job(1);
    store.stalled.put(Kind.UNCOLLECTED, List.of(found(1), found(2)));

    sweeper.sweepOnce();

    assertThat(repaired).contains("collect " + job(2));
  }

  @Test
  void dueRetriesGoBackToTheirBandsAndAreMarkedQueuedBehindTheFence() {
    leadFor(Duration.ZERO);
    store.dueRetries.addAll(
        List.of(stranded(job(1), 0, 0), stranded(job(1), 1, 0), stranded(job(2), 0, 5)));

    sweeper.sweepOnce();

    assertThat(redis.entries("q")).extracting(Delivery::seq).containsExactly(0, 1);
    assertThat(redis.entries(PriorityBand.stream("q", 5)))
        .singleElement()
        .extracting(Delivery::jobId)
        .isEqualTo(job(2));
    assertThat(store.fenced()).containsExactly("fenced markRetriesQueued 3");
    assertThat(count("sluice_tasks_retried_total")).isEqualTo(3);
  }

  @Test
  void expiredLeasesAndSilentNodesWaitForUnbrokenContactOfTheDeadAfterTime() {
    store.expiredLeases.add(stranded(job(1), 0, 0));
    store.deadNodes.add("worker-gone");
    leadFor(DEAD_AFTER.minusSeconds(1));

    sweeper.sweepOnce();

    assertThat(store.calls).doesNotContain("expiredLeases");
    assertThat(store.fenced()).isEmpty();
    assertThat(redis.entries("q")).isEmpty();

    keepContact(Duration.ofSeconds(1));
    sweeper.sweepOnce();

    assertThat(store.fenced()).containsExactly("fenced markDead PT15S", "fenced reclaim 1");
    assertThat(redis.entries("q")).extracting(Delivery::jobId).containsExactly(job(1));
    assertThat(count("sluice_tasks_reclaimed_total")).isEqualTo(1);
  }

  @Test
  void aRenewalThatHungPastTheLeaseStartsTheWaitForUnbrokenContactOver() {
    store.expiredLeases.add(stranded(job(1), 0, 0));
    leadFor(DEAD_AFTER.minusSeconds(1));
    // PostgreSQL was out of reach: the next renewal comes back after more than a lease.
    clock.advance(LEASE.plusSeconds(1));
    leader.tick();
    keepContact(DEAD_AFTER.minusSeconds(1));

    sweeper.sweepOnce();
    assertThat(store.fenced()).isEmpty();

    keepContact(Duration.ofSeconds(1));
    sweeper.sweepOnce();
    assertThat(store.fenced()).contains("fenced reclaim 1");
  }

  @Test
  void aDeposedLeaderThatHasNotNoticedYetWritesNothing() {
    store.expiredLeases.add(stranded(job(1), 0, 0));
    store.dueRetries.add(stranded(job(2), 0, 0));
    leadFor(DEAD_AFTER);
    leaderRow.epoch++;

    assertThatThrownBy(sweeper::sweepOnce).isInstanceOf(LeaderElection.NotLeaderException.class);
    assertThat(store.fenced()).isEmpty();
  }

  @Test
  void aLeaderDeposedInTheMiddleOfASweepMarksNoRetryQueued() {
    store.dueRetries.add(stranded(job(2), 0, 0));
    leadFor(Duration.ZERO);
    store.onRead.put("dueRetries", () -> leaderRow.epoch++);

    assertThatThrownBy(sweeper::sweepOnce).isInstanceOf(LeaderElection.NotLeaderException.class);
    assertThat(store.fenced()).isEmpty();
  }

  @Test
  void aLeaderDeposedInTheMiddleOfASweepReclaimsNoLease() {
    store.expiredLeases.add(stranded(job(1), 0, 0));
    leadFor(DEAD_AFTER);
    store.onRead.put("expiredLeases", () -> leaderRow.epoch++);

    assertThatThrownBy(sweeper::sweepOnce).isInstanceOf(LeaderElection.NotLeaderException.class);
    assertThat(store.fenced()).containsExactly("fenced markDead PT15S");
  }

  @Test
  void entriesReadButNotAcknowledgedForTheReapIdleTimeAreAppendedAgain() {
    leadFor(Duration.ZERO);
    store.activeQueues.add("q");
    String high = PriorityBand.stream("q", 1);
    redis.enqueue("q", job(1), new int[] {0, 1});
    redis.enqueue(high, job(2), new int[] {0});
    List<Delivery> read = redis.fetch("q", "dead-worker", 10, null);
    clock.advance(REAP_IDLE.minusSeconds(1));

    sweeper.sweepOnce();
    assertThat(redis.pending("q")).hasSize(2);
    assertThat(count("sluice_stream_entries_reaped_total")).isZero();

    clock.advance(Duration.ofSeconds(1));
    sweeper.sweepOnce();

    assertThat(redis.pending("q")).as("the old entries are acknowledged").isEmpty();
    assertThat(redis.entries("q")).extracting(Delivery::seq).containsExactly(0, 1);
    assertThat(redis.entries("q"))
        .extracting(Delivery::entryId)
        .doesNotContainAnyElementsOf(read.stream().map(Delivery::entryId).toList());
    assertThat(redis.entries(high)).extracting(Delivery::jobId).containsExactly(job(2));
    assertThat(redis.pending(high)).isEmpty();
    assertThat(count("sluice_stream_entries_reaped_total")).isEqualTo(3);
  }
}
