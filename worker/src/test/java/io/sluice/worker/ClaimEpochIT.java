package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.TaskStatus;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.CompletionWriter.Done;
import io.sluice.worker.redis.JedisTaskQueue;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The in-flight set is keyed by the claim: when one worker holds a task's claim e (late, its lease
 * lapsed) and its new claim e+1, the rejected commit of e removes only e, and e+1 keeps renewing.
 */
@ExtendWith(SluiceTestExtension.class)
class ClaimEpochIT {
  private static final String QUEUE = "epochs";
  private static final Duration LEASE = Duration.ofSeconds(30);

  private static TestEnvironment env;
  private static Database db;
  private static JedisTaskQueue queue;
  private static TestJobs jobs;

  @BeforeAll
  static void connect(TestEnvironment environment) {
    env = environment;
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
  void aLateCommitOfAnOldClaimLeavesTheNewClaimOfTheSameTaskHeldAndRenewed() {
    UUID jobId = jobs.createRunningJob(aJob().withQueue(QUEUE).withTasks(1));
    ClaimedTask old = jobs.claim("w-epoch", LEASE, jobId, 0);
    jobs.expireLeases(jobId);
    ClaimedTask current = jobs.claim("w-epoch", LEASE, jobId, 0);
    assertThat(current.leaseEpoch()).isEqualTo(old.leaseEpoch() + 1);

    InFlight inFlight = new InFlight();
    RunningTask late = new RunningTask(old, QUEUE, "0-1");
    RunningTask running = new RunningTask(current, QUEUE, "0-2");
    inFlight.add(late);
    inFlight.add(running);
    CompletionWriter writer = new CompletionWriter(db, queue, inFlight, new SimpleMeterRegistry());

    writer.write(
        List.of(
            new Done(
                new Completion(jobId, 0, old.leaseEpoch(), TaskStatus.SUCCEEDED, "{}", null, 0),
                QUEUE,
                "0-1")));

    assertThat(jobs.task(jobId, 0).status()).as("the stale commit was fenced").isEqualTo("RUNNING");
    assertThat(inFlight.get(InFlight.Key.of(current))).isSameAs(running);
    assertThat(inFlight.get(InFlight.Key.of(old))).isNull();

    jobs.execute(
        "UPDATE tasks SET lease_expires_at = now() + interval '1 second' WHERE job_id = ?", jobId);
    new LeaseRenewer(
            WorkerHarness.config(env, QUEUE, 1, 1, LEASE), db, inFlight, new SimpleMeterRegistry())
        .renewOnce();
    assertThat(running.isCancelled()).as("the current claim keeps its lease").isFalse();
    assertThat(
            jobs.count(
                "SELECT count(*) FROM tasks WHERE job_id = ? AND lease_expires_at > now() + interval '20 seconds'",
                jobId))
        .as("the current claim was renewed")
        .isEqualTo(1);
  }
}
