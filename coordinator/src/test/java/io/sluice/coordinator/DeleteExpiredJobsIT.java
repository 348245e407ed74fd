package io.sluice.coordinator;

import static io.sluice.coordinator.RetentionFixture.NONE;
import static io.sluice.coordinator.RetentionFixture.job;
import static io.sluice.coordinator.RetentionFixture.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.DeleteExpiredJobs.Run;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.redis.RedisKeys;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskRequeue;
import io.sluice.store.TenantScope;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Retention against real PostgreSQL and Redis: expired finished jobs go with every row of theirs,
 * in bounded transactions, only behind the leader fence, and never half-way under a requeue. Each
 * test leaves no expired job behind, so the next one's counts are its own.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeleteExpiredJobsIT {
  private static final Duration OLD = Duration.ofHours(1);
  private static final Duration RECENT = Duration.ofMinutes(1);
  private static final RetentionConfig TEN_MINUTES =
      RetentionConfig.DEFAULT.withRetention(Duration.ofMinutes(10));

  private TestEnvironment env;
  private Database db;
  private LettuceCoordination redis;
  private RedisKeys keys;
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private LeaderElection leader;

  @BeforeAll
  void start(TestEnvironment env) {
    this.env = env;
    db = RetentionFixture.database(env);
    redis = new LettuceCoordination(RedisConfig.parse(env.redisUrl(), env.redisPrefix()));
    keys = new RedisKeys(env.redisPrefix());
    leader =
        RetentionFixture.leader(db, "leader-" + UUID.randomUUID(), Duration.ofMinutes(5), metrics);
  }

  @AfterAll
  void stop() {
    leader.resign();
    redis.close();
    db.close();
  }

  @Test
  void expiredFinishedJobsGoWithEveryRowAndKeyWhileRecentAndActiveOnesStay() throws Exception {
    List<UUID> expired = new ArrayList<>();
    List<UUID> kept = new ArrayList<>();
    List<UUID> expiredKeys = new ArrayList<>();
    Map<UUID, Map<String, Long>> before = new HashMap<>();
    try (Connection c = env.connect()) {
      expired.add(job(c, null, "SUCCEEDED", 3, "SUCCEEDED", OLD));
      expired.add(job(c, null, "FAILED", 2, "FAILED", OLD)); // its tasks are dead letters
      expired.add(job(c, null, "CANCELLED", 2, "CANCELLED", OLD));
      expired.add(RetentionFixture.pipeline(c, "SUCCEEDED", OLD));
      kept.add(job(c, null, "SUCCEEDED", 2, "SUCCEEDED", RECENT));
      // Active for long, and one with a stale finish time from before it was reopened.
      kept.add(job(c, null, "RUNNING", 2, "RUNNING", null));
      kept.add(job(c, null, "RUNNING", 2, "RUNNING", OLD));
      kept.add(job(c, null, "QUEUED", 2, "QUEUED", OLD));
      kept.add(RetentionFixture.pipeline(c, "RUNNING", OLD));
      RetentionFixture.update(
          c,
          "INSERT INTO tenant_usage (tenant, active_jobs) VALUES ('tenant-a', 4)"
              + " ON CONFLICT (tenant) DO UPDATE SET active_jobs = 4");
      for (UUID id : kept) {
        before.put(id, rows(c, id));
      }
      for (UUID id : List.copyOf(expired)) {
        expiredKeys.add(id);
        expiredKeys.addAll(RetentionFixture.stages(c, id));
      }
    }
    // Keys a lost deletion left behind: a fan-in, and a bitmap an interrupted rebuild staged.
    expiredKeys.forEach(j -> redis.rebuildFanIn(j, 2, new int[] {0}));
    stageBitmap(expiredKeys.getFirst());
    assertThat(redisKeysOf(expiredKeys)).isEqualTo(2L * expiredKeys.size() + 1);

    double deletedBefore = metrics.counter("sluice_retention_deleted_jobs_total").count();
    Run run = RetentionFixture.retention(TEN_MINUTES, db, leader, redis, metrics).runOnce();

    assertThat(run.jobs()).isEqualTo(4);
    assertThat(run.stages()).isEqualTo(2);
    assertThat(run.tasks()).isEqualTo(3 + 2 + 2 + 4);
    try (Connection c = env.connect()) {
      for (UUID id : expired) {
        assertThat(rows(c, id)).as("rows of expired job %s", id).isEqualTo(NONE);
      }
      for (UUID id : kept) {
        assertThat(rows(c, id)).as("rows of kept job %s", id).isEqualTo(before.get(id));
      }
      assertThat(
              RetentionFixture.count(
                  c, "SELECT active_jobs FROM tenant_active_jobs WHERE tenant = 'tenant-a'", null))
          .as("deleting finished jobs gives back no quota they no longer hold")
          .isEqualTo(4);
    }
    assertThat(redisKeysOf(expiredKeys)).isZero();
    assertThat(metrics.counter("sluice_retention_deleted_jobs_total").count() - deletedBefore)
        .isEqualTo(4);
  }

  @Test
  void aTwentyThousandTaskJobIsDeletedInManyTransactionsOfAtMostTheRowBound() throws Exception {
    UUID big;
    try (Connection c = env.connect()) {
      big = job(c, null, "SUCCEEDED", 20_000, "SUCCEEDED", OLD);
    }
    double before = metrics.counter("sluice_retention_transactions_total").count();

    Run run =
        RetentionFixture.retention(TEN_MINUTES.withBatches(500, 2000), db, leader, redis, metrics)
            .runOnce();

    assertThat(run.tasks()).isEqualTo(20_000);
    assertThat(run.largestChunk()).as("rows deleted by one transaction").isLessThanOrEqualTo(2000);
    // One mark, ten full chunks and the short one that ends them, one for events, one for the job.
    assertThat(run.transactions()).isGreaterThanOrEqualTo(1 + 11 + 1 + 1);
    assertThat(metrics.counter("sluice_retention_transactions_total").count() - before)
        .isEqualTo(run.transactions());
    try (Connection c = env.connect()) {
      assertThat(rows(c, big)).isEqualTo(NONE);
    }
  }

  @Test
  void aDeposedLeaderDeletesNothingAndItsSuccessorDeletesAll() throws Exception {
    leader.resign(); // the class's leader steps aside so a short-lived one takes over
    LeaderElection stale =
        RetentionFixture.leader(db, "stale-" + UUID.randomUUID(), Duration.ofMillis(300), metrics);
    UUID id;
    try (Connection c = env.connect()) {
      id = job(c, null, "SUCCEEDED", 3, "SUCCEEDED", OLD);
    }
    LeaderElection next =
        RetentionFixture.candidate(db, "next-" + UUID.randomUUID(), Duration.ofMinutes(5), metrics);
    Awaitility.await("a successor takes over once the stale lease ran out")
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              next.tick();
              return next.isLeader();
            });
    assertThat(stale.isLeader()).as("the stale leader has not noticed yet").isTrue();

    assertThatThrownBy(
            () -> RetentionFixture.retention(TEN_MINUTES, db, stale, redis, metrics).runOnce())
        .isInstanceOf(LeaderElection.NotLeaderException.class);
    try (Connection c = env.connect()) {
      assertThat(rows(c, id)).containsEntry("jobs", 1L).containsEntry("tasks", 3L);
      assertThat(RetentionFixture.count(c, "SELECT count(*) FROM jobs WHERE deleting", null))
          .as("not even marked")
          .isZero();
    }

    assertThat(RetentionFixture.retention(TEN_MINUTES, db, next, redis, metrics).runOnce().jobs())
        .isEqualTo(1);
    leader = next;
  }

  /**
   * The race: an operator requeues a dead letter of a failed job while retention deletes it. The
   * job is either reopened whole (every task and event still there) or gone whole, never reopened
   * with its tasks half deleted.
   */
  @Test
  void aRequeueRacingRetentionReopensTheWholeJobOrFindsItGone() throws Exception {
    PostgresTaskRequeue requeue = new PostgresTaskRequeue();
    DeleteExpiredJobs retention =
        RetentionFixture.retention(TEN_MINUTES.withBatches(500, 100), db, leader, redis, metrics);
    int reopened = 0;
    int gone = 0;
    for (int i = 0; i < 40; i++) {
      UUID id;
      try (Connection c = env.connect()) {
        id = job(c, null, "FAILED", 300, "SUCCEEDED", OLD);
        RetentionFixture.update(
            c, "UPDATE tasks SET status = 'FAILED' WHERE job_id = ? AND seq = 0", id);
        RetentionFixture.update(c, "UPDATE jobs SET tasks_failed = 1 WHERE id = ?", id);
      }
      CyclicBarrier start = new CyclicBarrier(2);
      var requeued =
          CompletableFuture.supplyAsync(
              () -> {
                await(start);
                return db.inTransaction(
                    c -> requeue.requeue(c, TenantScope.ALL, id, 0, null, "race", t -> null));
              });
      await(start);
      retention.runOnce();
      boolean didRequeue = requeued.get() instanceof PostgresTaskRequeue.Requeued;
      try (Connection c = env.connect()) {
        Map<String, Long> left = rows(c, id);
        if (didRequeue) {
          reopened++;
          assertThat(left).containsEntry("jobs", 1L).containsEntry("tasks", 300L);
          assertThat(left.get("job_events"))
              .as("its two events and the requeue's")
              .isGreaterThan(2);
        } else {
          gone++;
          assertThat(left).isEqualTo(NONE);
        }
      }
    }
    // Both orders happen (28 reopened and 12 gone in one run here), so the race was run.
    assertThat(reopened).as("requeues that won").isPositive();
    assertThat(gone).as("deletions that won").isPositive();
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void stageBitmap(UUID job) {
    try (RedisClient client = RedisClient.create(env.redisUrl());
        var connection = client.connect()) {
      connection.sync().setbit(keys.countedStaging(job), 1, 1);
    }
  }

  /** How many of the fan-in keys of {@code jobs} and their stages Redis still holds. */
  private long redisKeysOf(List<UUID> jobs) {
    try (RedisClient client = RedisClient.create(env.redisUrl());
        var connection = client.connect()) {
      long n = 0;
      for (UUID job : jobs) {
        n +=
            connection
                .sync()
                .exists(keys.remaining(job), keys.counted(job), keys.countedStaging(job));
      }
      return n;
    }
  }
}
