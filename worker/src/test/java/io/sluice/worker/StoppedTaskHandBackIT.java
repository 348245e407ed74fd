package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.TaskRef;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.redis.JedisTaskQueue;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G2 across a renewal outage longer than two thirds of the lease: the worker tells the handler to
 * stop, and what the cut-short handler returns (a success, here) is never committed; the task is
 * handed back without spending its attempt and its re-run's result is the one committed.
 */
@ExtendWith(SluiceTestExtension.class)
class StoppedTaskHandBackIT {
  private static final String QUEUE = "stopped";

  private static TestEnvironment env;
  private static Database db;
  private static JedisTaskQueue queue;
  private static TestJobs jobs;

  @BeforeAll
  static void connect(TestEnvironment environment) throws Exception {
    env = environment;
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    queue = new JedisTaskQueue(RedisConfig.parse(env.redisUrl(), env.redisPrefix()), 4);
    jobs = new TestJobs(db, queue);
    try (Connection c = env.connect();
        Statement s = c.createStatement()) {
      // Lease renewals of the jobs listed here fail as if PostgreSQL dropped the connection
      // (SQLSTATE 08006); claims and completions go through.
      s.execute("CREATE TABLE unrenewable_jobs (job_id uuid PRIMARY KEY)");
      s.execute(
          """
          CREATE FUNCTION refuse_renewal() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF EXISTS (SELECT 1 FROM unrenewable_jobs WHERE job_id = NEW.job_id) THEN
              RAISE EXCEPTION 'test: connection lost during renewal' USING ERRCODE = '08006';
            END IF;
            RETURN NEW;
          END $$""");
      s.execute(
          """
          CREATE TRIGGER refuse_renewal BEFORE UPDATE ON tasks FOR EACH ROW
            WHEN (OLD.status = 'RUNNING' AND NEW.status = 'RUNNING'
                  AND NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at)
            EXECUTE FUNCTION refuse_renewal()""");
    }
  }

  @AfterAll
  static void close() {
    queue.close();
    db.close();
  }

  @Test
  void aHandlerCutShortByARenewalOutageIsHandedBackAndNeverCommitsASuccess() {
    UUID jobId =
        jobs.createRunningJob(
            aJob()
                .withType(StopProbeJobType.NAME)
                .withQueue(QUEUE)
                .withTasks(1)
                .withMaxAttempts(1));
    TaskRef task = new TaskRef(jobId, 0);
    jobs.execute("INSERT INTO unrenewable_jobs VALUES (?)", jobId);
    jobs.enqueue(QUEUE, jobId, 1);
    try (Worker worker =
        Worker.start(WorkerHarness.config(env, QUEUE, 2, 100, Duration.ofSeconds(3)))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> StopProbeJobType.toldToStop.contains(task));
      jobs.execute("DELETE FROM unrenewable_jobs WHERE job_id = ?", jobId);

      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> jobs.task(jobId, 0).status().equals("SUCCEEDED"));
    }
    TestJobs.TaskRow row = jobs.task(jobId, 0);
    assertThat(Json.read(row.output()).path("epoch").asLong())
        .as("the committed result is the re-run's, not the cut-short run's")
        .isEqualTo(2);
    assertThat(row.leaseEpoch()).isEqualTo(2);
    assertThat(row.attempt()).as("the hand-back spent no attempt (maxAttempts is 1)").isEqualTo(1);
    assertThat(
            jobs.count(
                "SELECT count(*) FROM job_events WHERE job_id = ? AND kind = 'HANDED_BACK'", jobId))
        .isEqualTo(1);
    assertThat(jobs.job(jobId).tasksSucceeded()).isEqualTo(1);
  }

  @Test
  void aDrainingWorkerHandsBackItsUnfinishedTaskWithoutSpendingAnAttempt() {
    String queueName = "drained";
    UUID jobId =
        jobs.createRunningJob(
            aJob()
                .withType(StopProbeJobType.NAME)
                .withQueue(queueName)
                .withTasks(1)
                .withMaxAttempts(1));
    jobs.enqueue(queueName, jobId, 1);
    try (Worker worker =
        Worker.start(WorkerHarness.config(env, queueName, 2, 100, Duration.ofSeconds(30)))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> jobs.task(jobId, 0).status().equals("RUNNING"));
    } // close() drains: the handler outlives the one-second grace and is handed back
    assertThat(jobs.task(jobId, 0).status()).isEqualTo("QUEUED");
    assertThat(jobs.task(jobId, 0).attempt()).as("the hand-back spent no attempt").isZero();

    try (Worker worker =
        Worker.start(WorkerHarness.config(env, queueName, 2, 100, Duration.ofSeconds(30)))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> jobs.task(jobId, 0).status().equals("SUCCEEDED"));
    }
    assertThat(jobs.task(jobId, 0).attempt()).isEqualTo(1);
    assertThat(jobs.job(jobId).tasksSucceeded()).isEqualTo(1);
  }
}
