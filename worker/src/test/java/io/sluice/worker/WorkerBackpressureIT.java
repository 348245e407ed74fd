package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.redis.JedisTaskQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G8 and G7 for one real worker: a writer that cannot commit stops the worker fetching at its
 * concurrency plus its commit backlog (instead of claiming everything its instant handlers can
 * finish), the bound shows in its metrics, and readiness fails until completions commit again.
 */
@ExtendWith(SluiceTestExtension.class)
class WorkerBackpressureIT {
  private static final int CONCURRENCY = 4;
  private static final int BACKLOG = 10;
  private static final int TASKS = 400;

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
      // Completions of the jobs listed here are refused with SQLSTATE 53000 (insufficient
      // resources): a failure retrying cures once the row is gone.
      s.execute("CREATE TABLE refused_jobs (job_id uuid PRIMARY KEY)");
      s.execute(
          """
          CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF EXISTS (SELECT 1 FROM refused_jobs WHERE job_id = NEW.job_id) THEN
              RAISE EXCEPTION 'test: completions of this job are refused' USING ERRCODE = '53000';
            END IF;
            RETURN NEW;
          END $$""");
      s.execute(
          """
          CREATE TRIGGER refuse_completion BEFORE UPDATE ON tasks FOR EACH ROW
            WHEN (OLD.status = 'RUNNING' AND NEW.status <> 'RUNNING')
            EXECUTE FUNCTION refuse_completion()""");
    }
  }

  @AfterAll
  static void close() {
    queue.close();
    db.close();
  }

  @Test
  void aWorkerWhoseWriterCannotCommitHoldsAtMostItsConcurrencyPlusItsCommitBacklog()
      throws Exception {
    String queueName = "backpressure";
    UUID jobId = jobs.createRunningJob(aJob().withQueue(queueName).withTasks(TASKS));
    jobs.enqueue(queueName, jobId, TASKS);
    int bound = CONCURRENCY + BACKLOG;
    Worker worker =
        Worker.start(
            WorkerHarness.config(env, queueName, CONCURRENCY, BACKLOG, Duration.ofSeconds(30)));
    try (Connection blocker = env.connect()) {
      // Holding the job row blocks every commit of the writer (it adds to the job's counts), while
      // claims and the instant noop handlers go on.
      blocker.setAutoCommit(false);
      try (PreparedStatement ps =
          blocker.prepareStatement("SELECT 1 FROM jobs WHERE id = ? FOR NO KEY UPDATE")) {
        ps.setObject(1, jobId);
        ps.executeQuery().close();
      }
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> running(jobId) >= bound);
        await()
            .during(Duration.ofSeconds(3))
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    running(jobId) <= bound
                        && WorkerHarness.metric(worker, "sluice_worker_in_flight") <= bound);
        assertThat(WorkerHarness.metric(worker, "sluice_worker_in_flight_limit")).isEqualTo(bound);
        assertThat(WorkerHarness.metric(worker, "sluice_worker_commit_backlog"))
            .as("finished tasks wait for the blocked writer")
            .isPositive()
            .isLessThanOrEqualTo(bound);
      } finally {
        blocker.rollback();
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(jobs.job(jobId).tasksSucceeded()).isEqualTo(TASKS));
      assertThat(WorkerHarness.metric(worker, "sluice_worker_in_flight")).isZero();
    } finally {
      worker.close();
    }
  }

  @Test
  void readinessFailsWhileCompletionsCannotCommitAndRecoversOnceTheyDo() throws Exception {
    String queueName = "refused";
    UUID jobId = jobs.createRunningJob(aJob().withQueue(queueName).withTasks(5));
    jobs.execute("INSERT INTO refused_jobs VALUES (?)", jobId);
    jobs.enqueue(queueName, jobId, 5);
    try (Worker worker =
        Worker.start(WorkerHarness.config(env, queueName, 2, 100, Duration.ofSeconds(30)))) {
      await().atMost(Duration.ofSeconds(20)).until(() -> WorkerHarness.readiness(worker) == 503);
      assertThat(
              WorkerHarness.readinessBody(worker)
                  .path("components")
                  .path("completions")
                  .path("state")
                  .asText())
          .isEqualTo("DOWN");
      assertThat(jobs.job(jobId).tasksSucceeded()).isZero();

      jobs.execute("DELETE FROM refused_jobs WHERE job_id = ?", jobId);
      await().atMost(Duration.ofSeconds(20)).until(() -> WorkerHarness.readiness(worker) == 200);
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(() -> assertThat(jobs.job(jobId).tasksSucceeded()).isEqualTo(5));
      assertThat(jobs.job(jobId).status()).isNotEqualTo(JobStatus.FAILED);
    }
  }

  private static long running(UUID jobId) {
    return jobs.count("SELECT count(*) FROM tasks WHERE job_id = ? AND status = 'RUNNING'", jobId);
  }
}
