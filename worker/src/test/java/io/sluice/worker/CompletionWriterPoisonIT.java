package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import io.sluice.store.TaskStatus;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.CompletionWriter.Done;
import io.sluice.worker.redis.JedisTaskQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G1 for completions PostgreSQL refuses: a NUL in an output (jsonb) or an error (text), or a retry
 * delay out of interval range, fails only its own task with a storable error; the other tasks of
 * the batch and the batches behind it commit, and the job reaches a terminal state.
 */
@ExtendWith(SluiceTestExtension.class)
class CompletionWriterPoisonIT {
  private static final String QUEUE = "poison";
  private static final Duration LEASE = Duration.ofMinutes(5);

  private static Database db;
  private static JedisTaskQueue queue;
  private static TestJobs jobs;

  @BeforeAll
  static void connect(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    queue = new JedisTaskQueue(RedisConfig.parse(env.redisUrl(), env.redisPrefix()), 4);
    jobs = new TestJobs(db, queue);
  }

  @AfterAll
  static void close() {
    queue.close();
    db.close();
  }

  @Test
  void aCompletionPostgresCannotStoreFailsOnlyItsTaskAndEverythingBehindItCommits()
      throws Exception {
    UUID jobId = jobs.createRunningJob(aJob().withQueue(QUEUE).withTasks(8));
    List<ClaimedTask> claims = new ArrayList<>();
    for (int seq = 0; seq < 8; seq++) {
      claims.add(jobs.claim("w-poison", LEASE, jobId, seq));
    }
    InFlight inFlight = new InFlight();
    claims.forEach(c -> inFlight.add(new RunningTask(c, QUEUE, "0-" + (c.seq() + 1))));
    CompletionWriter writer = new CompletionWriter(db, queue, inFlight, new SimpleMeterRegistry());
    Thread loop = Thread.ofPlatform().name("test-writer").start(writer::loop);
    try {
      // One batch: good, NUL in jsonb, good, NUL in a text error, good, a delay no interval holds.
      writer.submit(done(succeeded(claims.get(0), "{\"ok\":0}")));
      writer.submit(done(succeeded(claims.get(1), "{\"text\":\"a\\u0000b\"}")));
      writer.submit(done(succeeded(claims.get(2), "{\"ok\":2}")));
      writer.submit(done(completion(claims.get(3), TaskStatus.RETRY_WAIT, "bad\u0000reason", 10)));
      writer.submit(done(succeeded(claims.get(4), "{\"ok\":4}")));
      writer.submit(
          done(completion(claims.get(5), TaskStatus.RETRY_WAIT, "later", Long.MAX_VALUE / 2)));
      // Behind them.
      writer.submit(done(succeeded(claims.get(6), "{\"ok\":6}")));
      writer.submit(done(succeeded(claims.get(7), "{\"ok\":7}")));

      await().atMost(Duration.ofSeconds(30)).until(() -> !jobs.statuses(jobId).contains("RUNNING"));
    } finally {
      writer.stop();
      loop.join(10_000);
    }

    assertThat(jobs.statuses(jobId))
        .containsExactly(
            "SUCCEEDED",
            "FAILED",
            "SUCCEEDED",
            "FAILED",
            "SUCCEEDED",
            "FAILED",
            "SUCCEEDED",
            "SUCCEEDED");
    for (int seq : new int[] {1, 3, 5}) {
      assertThat(jobs.task(jobId, seq).error())
          .as("task %d", seq)
          .startsWith("the worker could not store this task's result (SQLSTATE 22")
          .doesNotContain("\u0000");
    }
    assertThat(jobs.task(jobId, 7).output()).isEqualTo("{\"ok\": 7}");
    var job = jobs.job(jobId);
    assertThat(job.status()).as("terminal").isEqualTo(JobStatus.FAILED);
    assertThat(job.tasksSucceeded() + job.tasksFailed()).isEqualTo(8);
    assertThat(inFlight.size()).as("every claim left the in-flight set").isZero();
    assertThat(writer.healthy()).isTrue();
  }

  private static Done done(Completion c) {
    return new Done(c, QUEUE, "0-" + (c.seq() + 1));
  }

  private static Completion succeeded(ClaimedTask claim, String output) {
    return new Completion(
        claim.jobId(), claim.seq(), claim.leaseEpoch(), TaskStatus.SUCCEEDED, output, null, 0);
  }

  private static Completion completion(
      ClaimedTask claim, TaskStatus status, String error, long delayMs) {
    return new Completion(
        claim.jobId(), claim.seq(), claim.leaseEpoch(), status, null, error, delayMs);
  }
}
