package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.store.PostgresTimeLimits.Expiry;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The leader's time limits against a real PostgreSQL, raced against the worker's own writes: the
 * timeout of an attempt and that attempt's completion, and a deadline and a job's last completion.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresTimeLimitsIT {
  private static final int RACES = 150;
  private static final Duration TIMEOUT = Duration.ofMillis(100);

  private static Database db;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTimeLimits limits = new PostgresTimeLimits();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 8), "test");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void theLeadersTimeOutAndTheWorkersLateSuccessOfOneAttemptNeverBothApply() throws Exception {
    UUID jobId =
        new StoredJobs(db)
            .running(
                aJob()
                    .withPayload(Json.object().put("tasks", RACES))
                    .withLimits(TimeLimits.NONE.withTaskTimeout(TIMEOUT)));
    List<TaskRef> refs = IntStream.range(0, RACES).mapToObj(s -> new TaskRef(jobId, s)).toList();
    List<ClaimedTask> claims =
        db.inTransaction(c -> tasks.claim(c, "w", Duration.ofMinutes(1), refs));
    assertThat(claims).hasSize(RACES);
    await("every attempt is past its timeout by PostgreSQL's clock")
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.query(c -> limits.overdue(c, Duration.ZERO, RACES * 2)).size() == RACES);

    int completed = 0;
    int timedOut = 0;
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (ClaimedTask claim : claims) {
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Integer> worker = threads.submit(() -> succeed(claim, start));
        Future<Integer> leader =
            threads.submit(
                () ->
                    db.inTransaction(
                        c -> {
                          meet(start);
                          return limits.timeOut(c, List.of(expiry(claim)));
                        }));
        int w = worker.get();
        int l = leader.get();
        assertThat(w + l).as("task %d: exactly one of the two applied", claim.seq()).isEqualTo(1);
        completed += w;
        timedOut += l;
      }
    } finally {
      threads.shutdownNow();
    }
    Job job = db.query(c -> jobs.find(c, jobId)).orElseThrow();
    assertThat(job.tasksSucceeded()).as("only the successes that won count").isEqualTo(completed);
    assertThat(
            count("SELECT count(*) FROM job_events WHERE job_id = ? AND kind = 'TIMED_OUT'", jobId))
        .isEqualTo(timedOut);
    assertThat(
            count(
                "SELECT count(*) FROM tasks WHERE job_id = ? AND status = 'RETRY_WAIT'"
                    + " AND lease_epoch = 2 AND error = 'timed out after 100ms'",
                jobId))
        .as("each timed-out attempt moved its fence on")
        .isEqualTo(timedOut);
    assertThat(completed).as("both outcomes happen").isPositive();
    assertThat(timedOut).as("both outcomes happen").isPositive();
  }

  @Test
  void aDeadlineRacingTheLastCompletionEndsTheJobOnceEitherWay() throws Exception {
    int failedByDeadline = 0;
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 40; round++) {
        UUID jobId =
            new StoredJobs(db)
                .running(
                    aJob().withLimits(new TimeLimits(null, Duration.ofSeconds(1), null, null)));
        ClaimedTask claim =
            db.inTransaction(
                    c -> tasks.claim(c, "w", Duration.ofMinutes(1), List.of(new TaskRef(jobId, 0))))
                .get(0);
        db.inTransaction(
            c -> {
              try (var ps =
                  c.prepareStatement("UPDATE jobs SET deadline_at = now() WHERE id = ?")) {
                ps.setObject(1, jobId);
                return ps.executeUpdate();
              }
            });
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Integer> worker = threads.submit(() -> succeed(claim, start));
        Future<List<UUID>> leader =
            threads.submit(
                () ->
                    db.inTransaction(
                            c -> {
                              meet(start);
                              return limits.failPastDeadline(c, List.of(jobId));
                            })
                        .failedJobs());
        int w = worker.get();
        boolean failed = !leader.get().isEmpty();
        Job job = db.query(c -> jobs.find(c, jobId)).orElseThrow();
        assertThat(job.status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.error()).isEqualTo(PostgresTimeLimits.DEADLINE_EXCEEDED);
        assertThat(failed).as("the deadline failed the job once").isTrue();
        // The task either committed first (counted) or was cancelled first (its success refused).
        assertThat(job.tasksSucceeded()).isEqualTo(w);
        assertThat(
                count(
                    "SELECT count(*) FROM job_events WHERE job_id = ? AND to_status = 'FAILED'",
                    jobId))
            .isEqualTo(1);
        failedByDeadline += 1 - w;
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(failedByDeadline).as("the cancel won some rounds").isPositive();
  }

  /** Both sides start their statement together; a retried transaction fails instead of waiting. */
  private static void meet(CyclicBarrier start) {
    try {
      start.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the other side of the race never came", e);
    }
  }

  /** The worker's side: the attempt's success, committed; 1 when its fence held. */
  private int succeed(ClaimedTask claim, CyclicBarrier start) {
    return db.inTransaction(
            c -> {
              meet(start);
              return tasks.completeAndCount(c, List.of(success(claim)));
            })
        .applied()
        .size();
  }

  private static Completion success(ClaimedTask claim) {
    return new Completion(
        claim.jobId(), claim.seq(), claim.leaseEpoch(), TaskStatus.SUCCEEDED, "{}", null, 0);
  }

  private static Expiry expiry(ClaimedTask claim) {
    return new Expiry(
        claim.jobId(), claim.seq(), claim.leaseEpoch(), TimeLimits.timedOutError(TIMEOUT), 0);
  }

  private static long count(String sql, UUID jobId) {
    return db.query(
        c -> {
          try (var ps = c.prepareStatement(sql)) {
            ps.setObject(1, jobId);
            try (var rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}
