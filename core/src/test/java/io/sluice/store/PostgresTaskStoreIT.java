package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Splitter;
import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The task table's compare-and-sets against a real, migrated PostgreSQL: the lease fence (G2), one
 * claimer per task, counters bounded by the task count (G3), and a job stored with its tasks or not
 * at all.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresTaskStoreIT {
  private static final int CLAIMERS = 8;
  private static final int CLAIM_RACES = 200;
  private static final Duration LONG_LEASE = Duration.ofSeconds(30);

  private static Database db;
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private StoredJobs stored;

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 8), "test");
    db.migrate();
  }

  @BeforeEach
  void fixtures() {
    stored = new StoredJobs(db);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void staleWorkerCannotCommitAfterLeaseReclaimed() {
    UUID jobId = createRunningJob(1);
    List<TaskRef> task = List.of(new TaskRef(jobId, 0));
    ClaimedTask a =
        single(db.inTransaction(c -> tasks.claim(c, "worker-a", Duration.ofMillis(50), task)));
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(10))
        .until(() -> leaseExpired(jobId, 0));

    ClaimedTask b = single(db.inTransaction(c -> tasks.claim(c, "worker-b", LONG_LEASE, task)));
    assertThat(b.leaseEpoch()).isEqualTo(a.leaseEpoch() + 1);
    assertThat(b.attempt()).isEqualTo(a.attempt() + 1);
    TaskRow afterReclaim = taskRow(jobId, 0);

    List<TaskRef> renewed = db.inTransaction(c -> tasks.renew(c, LONG_LEASE, List.of(a)));
    assertThat(renewed).as("the zombie cannot extend the new holder's lease").isEmpty();
    assertThat(commitLikeAWorker(succeeded(a, "a")))
        .as("the zombie's completion is fenced out")
        .isEmpty();
    assertThat(taskRow(jobId, 0)).isEqualTo(afterReclaim);
    assertThat(afterReclaim.status()).isEqualTo("RUNNING");
    assertThat(afterReclaim.workerId()).isEqualTo("worker-b");
    assertThat(afterReclaim.output()).isNull();

    assertThat(commitLikeAWorker(succeeded(b, "b"))).hasSize(1);
    TaskRow committed = taskRow(jobId, 0);
    assertThat(committed.status()).isEqualTo("SUCCEEDED");
    assertThat(committed.output()).isEqualTo("{\"by\": \"b\"}");
    assertThat(committed.version()).isEqualTo(afterReclaim.version() + 1);
    assertThat(commitLikeAWorker(succeeded(a, "a")))
        .as("a zombie arriving after the commit is fenced out too")
        .isEmpty();

    Job job = job(jobId);
    assertThat(job.tasksSucceeded()).isEqualTo(1);
    assertThat(job.tasksFailed()).isZero();
    assertThat(job.tasksSucceeded() + job.tasksFailed()).isEqualTo(job.taskCount());
  }

  @Test
  void aTaskIsClaimedByExactlyOneOfManyConcurrentClaimers() throws Exception {
    UUID jobId = createRunningJob(CLAIM_RACES);
    ExecutorService threads = Executors.newFixedThreadPool(CLAIMERS);
    try {
      for (int seq = 0; seq < CLAIM_RACES; seq++) {
        List<TaskRef> task = List.of(new TaskRef(jobId, seq));
        CyclicBarrier start = new CyclicBarrier(CLAIMERS);
        List<Future<List<ClaimedTask>>> claims = new ArrayList<>();
        for (int w = 0; w < CLAIMERS; w++) {
          String workerId = "worker-" + w;
          claims.add(
              threads.submit(
                  () -> {
                    // The connection is taken before the barrier, so the race is the UPDATE itself.
                    // The wait is generous: the first round opens the pool's 8 connections, which
                    // took over 10 s in fresh-check's network namespace on the embedded server.
                    try (Connection c = db.dataSource().getConnection()) {
                      start.await(60, TimeUnit.SECONDS);
                      return tasks.claim(c, workerId, LONG_LEASE, task);
                    }
                  }));
        }
        List<ClaimedTask> winners = new ArrayList<>();
        for (Future<List<ClaimedTask>> claim : claims) {
          // Longer than the barrier's wait, so a slow first connection fails there, by name.
          winners.addAll(claim.get(90, TimeUnit.SECONDS));
        }
        assertThat(winners).as("claims of task %d", seq).hasSize(1);
        ClaimedTask winner = winners.get(0);
        assertThat(winner.leaseEpoch()).isEqualTo(1);
        assertThat(winner.attempt()).isEqualTo(1);
        TaskRow row = taskRow(jobId, seq);
        assertThat(row.leaseEpoch()).isEqualTo(1);
        assertThat(row.status()).isEqualTo("RUNNING");
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void countsCanNeverExceedTaskCount() {
    UUID full = createRunningJob(3);
    UUID other = createRunningJob(3);
    db.inTransaction(c -> jobs.addCounts(c, List.of(new CountDelta(full, 2, 0))));
    Job fullBefore = job(full);
    Job otherBefore = job(other);

    // One batch for two jobs: the one that overflows aborts the statement for both.
    assertThatThrownBy(
            () ->
                db.inTransaction(
                    c ->
                        jobs.addCounts(
                            c, List.of(new CountDelta(other, 1, 0), new CountDelta(full, 1, 1)))))
        .isInstanceOfSatisfying(
            StoreException.class, e -> assertThat(e.sqlState()).isEqualTo("23514"));
    assertThatThrownBy(
            () -> db.inTransaction(c -> jobs.addCounts(c, List.of(new CountDelta(full, 0, -1)))))
        .isInstanceOfSatisfying(
            StoreException.class, e -> assertThat(e.sqlState()).isEqualTo("23514"));

    assertThat(job(full)).isEqualTo(fullBefore);
    assertThat(job(other)).isEqualTo(otherBefore);
    assertThat(fullBefore.tasksSucceeded() + fullBefore.tasksFailed()).isEqualTo(2);
    assertThat(otherBefore.tasksSucceeded() + otherBefore.tasksFailed()).isZero();

    db.inTransaction(c -> jobs.addCounts(c, List.of(new CountDelta(full, 0, 1))));
    assertThat(job(full).allTasksFinished()).isTrue();
  }

  @Test
  void aJobAndItsTasksAreStoredAtomically() {
    UUID jobId = UUID.randomUUID();
    int before =
        5_000; // well past TaskCopy's 64 KiB flush, so rows reach the server before the throw
    Splitter breaksMidway =
        (payload, sink) -> {
          for (int i = 0; i < before; i++) {
            sink.accept(Json.object().put("pad", "x".repeat(40)).put("i", i));
          }
          throw new IllegalStateException("splitter broke after " + before + " tasks");
        };

    assertThatThrownBy(
            () ->
                stored.queued(
                    aJob().withId(jobId).withPayload(Json.object()).build(), breaksMidway))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("splitter broke");

    assertThat(count("SELECT count(*) FROM jobs WHERE id = ?", jobId)).isZero();
    assertThat(count("SELECT count(*) FROM tasks WHERE job_id = ?", jobId)).isZero();
    // The connection that was mid-COPY went back to the pool usable.
    for (int i = 0; i < 8; i++) {
      assertThat(job(createRunningJob(2)).taskCount()).isEqualTo(2);
    }
  }

  // --- helpers ---

  private UUID createRunningJob(int taskCount) {
    return stored.running(aJob().withTasks(taskCount));
  }

  /** What the worker's writer does: apply fenced completions, count only those applied. */
  private List<Completion> commitLikeAWorker(Completion completion) {
    return db.inTransaction(
        c -> {
          List<Completion> applied = tasks.complete(c, List.of(completion));
          for (Completion x : applied) {
            jobs.addCounts(c, List.of(new CountDelta(x.jobId(), 1, 0)));
          }
          return applied;
        });
  }

  private static Completion succeeded(ClaimedTask claim, String by) {
    return new Completion(
        claim.jobId(),
        claim.seq(),
        claim.leaseEpoch(),
        TaskStatus.SUCCEEDED,
        "{\"by\":\"" + by + "\"}",
        null,
        0);
  }

  private static ClaimedTask single(List<ClaimedTask> claimed) {
    assertThat(claimed).hasSize(1);
    return claimed.get(0);
  }

  private Job job(UUID id) {
    return db.query(c -> jobs.find(c, id)).orElseThrow();
  }

  /** The columns a completion could change. */
  record TaskRow(
      String status, String output, long version, long leaseEpoch, String workerId, int attempt) {}

  private static TaskRow taskRow(UUID jobId, int seq) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT status, output::text, version, lease_epoch, worker_id, attempt"
                      + " FROM tasks WHERE job_id = ? AND seq = ?")) {
            ps.setObject(1, jobId);
            ps.setInt(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
              assertThat(rs.next()).isTrue();
              return new TaskRow(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  rs.getString(5),
                  rs.getInt(6));
            }
          }
        });
  }

  private static boolean leaseExpired(UUID jobId, int seq) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT lease_expires_at < now() FROM tasks WHERE job_id = ? AND seq = ?")) {
            ps.setObject(1, jobId);
            ps.setInt(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() && rs.getBoolean(1);
            }
          }
        });
  }

  private static long count(String sql, UUID id) {
    return db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}
