package io.sluice.coordinator;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import io.sluice.store.TaskStatus;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
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
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * The collection gate of G3 against real PostgreSQL and Redis: many coordinators triggered for the
 * same finished job at the same instant run its collector once and commit its result once; a
 * trigger that comes before the last task finished changes nothing.
 */
@ExtendWith(SluiceTestExtension.class)
class CollectorRaceIT {
  private static final int TRIGGERS = 8;
  private static final int REPETITIONS = 200;
  private static final int TASKS = 4;

  private static Database db;
  private static LettuceCoordination redis;
  private static Jedis jedis;

  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();

  @BeforeAll
  static void connect(TestEnvironment env) {
    db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2 * TRIGGERS),
            "test");
    db.migrate();
    redis = new LettuceCoordination(RedisConfig.parse(env.redisUrl(), env.redisPrefix()));
    jedis = new Jedis(URI.create(env.redisUrl()));
  }

  @AfterAll
  static void close() {
    jedis.close();
    redis.close();
    db.close();
  }

  @Test
  void manySimultaneousTriggersCollectAFinishedJobExactlyOnce() throws Exception {
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    JobCollector collector = newCollector(metrics);
    ExecutorService threads = Executors.newFixedThreadPool(TRIGGERS);
    try {
      for (int rep = 0; rep < REPETITIONS; rep++) {
        UUID jobId = createRunningJob(TASKS);
        finishTasks(jobId, TASKS);
        redis.initFanIn(jobId, 0);

        triggerTogether(threads, collector, jobId);

        assertThat(CountingJobType.runs(jobId.toString()))
            .as("repetition %d: collector runs", rep)
            .isEqualTo(1);
        Job job = job(jobId);
        assertThat(job.status()).as("repetition %d: status", rep).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(job.result().path("n").asInt()).isEqualTo(1);
        assertThat(job.result().path("succeeded").asInt()).isEqualTo(TASKS);
        assertThat(job.finishedAt()).isNotNull();
        assertThat(events(jobId, "COLLECTING")).as("repetition %d: COLLECTING", rep).isEqualTo(1);
        assertThat(events(jobId, "SUCCEEDED")).as("repetition %d: SUCCEEDED", rep).isEqualTo(1);
        assertThat(events(jobId, "FAILED")).isZero();
        assertThat(jedis.exists(redis.keys().remaining(jobId), redis.keys().counted(jobId)))
            .as("a finished job's fan-in keys are deleted")
            .isZero();
      }
      assertThat(metrics.counter("sluice_jobs_collected_total").count()).isEqualTo(REPETITIONS);
      assertThat(metrics.counter("sluice_collect_triggers_ignored_total").count())
          .isEqualTo((TRIGGERS - 1) * REPETITIONS);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void anEarlyTriggerDoesNothing() throws Exception {
    JobCollector collector = newCollector(new SimpleMeterRegistry());
    ExecutorService threads = Executors.newFixedThreadPool(TRIGGERS);
    try {
      UUID jobId = createRunningJob(3);
      List<ClaimedTask> claims = claimAll(jobId, 3);
      complete(claims.subList(0, 2));
      Job before = job(jobId);

      collector.collect(jobId);
      triggerTogether(threads, collector, jobId);

      assertThat(job(jobId)).isEqualTo(before);
      assertThat(before.status()).isEqualTo(JobStatus.RUNNING);
      assertThat(CountingJobType.runs(jobId.toString())).isZero();
      assertThat(events(jobId, "COLLECTING")).isZero();

      // The early triggers left nothing behind that stops the real one.
      complete(claims.subList(2, 3));
      collector.collect(jobId);
      assertThat(job(jobId).status()).isEqualTo(JobStatus.SUCCEEDED);
      assertThat(CountingJobType.runs(jobId.toString())).isEqualTo(1);
    } finally {
      threads.shutdownNow();
    }
  }

  // --- helpers ---

  private static JobCollector newCollector(SimpleMeterRegistry metrics) {
    return new JobCollector(db, JobTypeRegistry.load(), redis, Duration.ofSeconds(60), metrics);
  }

  private static void triggerTogether(ExecutorService threads, JobCollector collector, UUID jobId)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(TRIGGERS);
    List<Future<?>> triggers = new ArrayList<>(TRIGGERS);
    for (int i = 0; i < TRIGGERS; i++) {
      triggers.add(
          threads.submit(
              () -> {
                start.await(10, TimeUnit.SECONDS);
                collector.collect(jobId);
                return null;
              }));
    }
    for (Future<?> trigger : triggers) {
      trigger.get(30, TimeUnit.SECONDS);
    }
  }

  /** A {@code counting} job whose payload key is its own id, dispatched (RUNNING). */
  private UUID createRunningJob(int taskCount) {
    UUID id = UUID.randomUUID();
    JsonNode payload = Json.object().put("tasks", taskCount).put("key", id.toString());
    return new StoredJobs(db)
        .running(
            aJob().withId(id).withType("counting").withPayload(payload).build(),
            new CountingJobType().splitter());
  }

  private void finishTasks(UUID jobId, int taskCount) {
    complete(claimAll(jobId, taskCount));
  }

  private List<ClaimedTask> claimAll(UUID jobId, int taskCount) {
    List<TaskRef> refs =
        IntStream.range(0, taskCount).mapToObj(s -> new TaskRef(jobId, s)).toList();
    List<ClaimedTask> claims =
        db.inTransaction(c -> tasks.claim(c, "worker", Duration.ofSeconds(60), refs));
    assertThat(claims).hasSize(taskCount);
    return claims;
  }

  /** Commits the claims as SUCCEEDED and counts them, as a worker's writer does. */
  private void complete(List<ClaimedTask> claims) {
    List<Completion> completions =
        claims.stream()
            .map(
                t ->
                    new Completion(
                        t.jobId(), t.seq(), t.leaseEpoch(), TaskStatus.SUCCEEDED, "{}", null, 0))
            .toList();
    db.inTransaction(
        c -> {
          List<Completion> applied = tasks.complete(c, completions);
          assertThat(applied).hasSameSizeAs(completions);
          return jobs.addCounts(
              c, List.of(new CountDelta(claims.get(0).jobId(), applied.size(), 0)));
        });
  }

  private Job job(UUID id) {
    return db.query(c -> jobs.find(c, id)).orElseThrow();
  }

  private static long events(UUID jobId, String toStatus) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM job_events WHERE job_id = ? AND to_status = ?")) {
            ps.setObject(1, jobId);
            ps.setString(2, toStatus);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }
}
