package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import redis.clients.jedis.Jedis;

/**
 * G1–G3 under faults injected into real processes: worker JVMs killed, paused and terminated; Redis
 * restarted empty and flushed; PostgreSQL stopped. After each, the job finished, every task was
 * counted exactly once, and wordcount's total equals an independent count.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultToleranceIT {
  private static final String TEXT = Corpus.text(2_400, 11);
  private static final long WORDS = FaultHarness.countWords(TEXT);

  private FaultHarness harness;

  @BeforeAll
  void start() throws Exception {
    harness = new FaultHarness();
  }

  @AfterAll
  void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @BeforeEach
  void freshWorkers() {
    harness.stopWorkers();
    // A failed test must not leave the next one without its servers.
    harness.postgres.start();
    if (!harness.redis.isRunning()) {
      harness.redis.start();
    }
  }

  @Test
  void killingARandomWorkerEveryFewSecondsLosesNothing() throws Exception {
    harness.startWorkers(3);
    String id = harness.submit(FaultHarness.wordcountBody(TEXT, 10, 80));
    Random random = new Random(1);
    for (int kills = 0; kills < 4 && !isTerminal(id); kills++) {
      Awaitility.await().pollDelay(Duration.ofMillis(1500)).until(() -> true);
      ChildJvm victim = harness.workers.get(random.nextInt(harness.workers.size()));
      victim.kill();
      harness.workers.remove(victim);
      harness.startWorker();
    }

    assertWordcountExact(id);
  }

  @Test
  void afterAllWorkersAreKilledNewOnesDrainTheBacklog() throws Exception {
    harness.startWorkers(2);
    String id = harness.submit(FaultHarness.wordcountBody(TEXT, 10, 50));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> harness.tasksFinished(id) > 20);
    harness.stopWorkers();
    int stranded = 240 - harness.tasksFinished(id);
    assertThat(stranded).isPositive();
    harness.startWorkers(2);

    assertWordcountExact(id);
  }

  @Test
  void aWorkerPausedPastItsLeaseIsFencedWhenItWakes() throws Exception {
    Map<String, String> env = harness.workerEnv("sleeper");
    int port = Integer.parseInt(env.get("SLUICE_HTTP_PORT"));
    ChildJvm sleeper = harness.startWorker(env);
    awaitReady(port);
    String id =
        harness.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":4,\"taskDelayMs\":2500}}");
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                harness.scalar(
                        "SELECT count(*) FROM tasks WHERE job_id = '"
                            + id
                            + "' AND status = 'RUNNING' AND worker_id = 'sleeper'")
                    == 4);
    sleeper.pause();
    harness.startWorker();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                harness.scalar(
                        "SELECT count(*) FROM tasks WHERE job_id = '"
                            + id
                            + "' AND lease_epoch >= 2")
                    == 4);
    sleeper.resume();

    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(60));

    harness.assertExactlyOnce(id, job);
    assertThat(
            harness.scalar(
                "SELECT count(*) FROM job_events WHERE job_id = '" + id + "' AND kind = 'RECLAIM'"))
        .isGreaterThanOrEqualTo(4);
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> zombiesRejected(harness.workerMetrics(port)) >= 1);
  }

  @Test
  void redisRestartedEmptyInTheMiddleOfAJobLosesNothing() throws Exception {
    assertSurvivesRedisLoss(() -> harness.redis.restart());
  }

  @Test
  void redisFlushedInTheMiddleOfAJobLosesNothing() throws Exception {
    assertSurvivesRedisLoss(
        () -> {
          try (Jedis jedis = new Jedis(URI.create(harness.redis.url()))) {
            jedis.flushAll();
          }
        });
  }

  /**
   * With one attempt per task and a handler that stops as soon as it is told to, an outage longer
   * than the lease must neither fail a task (its attempt is not spent by an outage) nor commit the
   * early return of a handler told to stop (a success for work it did not finish, G2). Tasks run 2
   * s each, so some are mid-run for the whole 10 s outage.
   *
   * <p>Fails on the worker of 2026-12-01 (before issue 8 item 7): tasks told to stop during the
   * outage commit their cut-short result, or spend their only attempt. It states the invariant that
   * fix must meet.
   */
  @Test
  void postgresStoppedForTenSecondsInTheMiddleOfAJobLosesNothing() throws Exception {
    int tasks = 40;
    int steps = 20;
    harness.startWorkers(2);
    String id = harness.submit(stepsBody(tasks, steps, 100, 1, null));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> harness.tasksFinished(id) >= 8);
    harness.postgres.stopImmediately();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> harness.readyStatus() == 503);
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .pollDelay(Duration.ofSeconds(10))
        .until(() -> true);
    assertThat(harness.workers).allMatch(ChildJvm::isAlive);
    harness.postgres.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> harness.readyStatus() == 200);

    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(120));
    harness.assertExactlyOnce(id, job);
    assertThat(
            harness.scalar(
                "SELECT count(*) FROM tasks WHERE job_id = '"
                    + id
                    + "' AND status = 'SUCCEEDED' AND (output->>'steps')::int < "
                    + steps))
        .as("tasks that committed a success their handler did not finish")
        .isZero();
    assertThat(job.get("result").get("totalSteps").asLong()).isEqualTo((long) tasks * steps);
    assertThat(job.get("result").get("shortTasks").asLong()).isZero();
  }

  @Test
  void aPoisonTaskIsDeadLetteredAfterMaxAttemptsWithoutHoldingUpOthers() throws Exception {
    // One task at a time per worker: a crash then takes down only the task that caused it (with
    // more, its neighbours' deliveries count too, which is correct but makes the test
    // unpredictable).
    for (int i = 0; i < 2; i++) {
      startSingleSlotWorker();
    }
    String poison =
        harness.submit(
            "{\"type\":\"poison\",\"maxAttempts\":2,\"payload\":{\"tasks\":20,\"poisonSeq\":7}}");
    String healthy = harness.submit(FaultHarness.wordcountBody(TEXT, 20, 10));
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!isTerminal(poison) && System.nanoTime() < deadline) {
      // Every delivery of the poison task kills its worker; keep two alive, as an orchestrator
      // would.
      harness.workers.removeIf(w -> !w.isAlive());
      while (harness.workers.size() < 2) {
        startSingleSlotWorker();
      }
      Awaitility.await().pollDelay(Duration.ofMillis(300)).until(() -> true);
    }

    JsonNode failed = harness.awaitTerminal(poison, Duration.ofSeconds(5));
    assertThat(failed.get("status").asText()).isEqualTo("FAILED");
    assertThat(failed.get("error").asText()).contains("task 7").contains("deliveries");
    assertThat(
            harness.scalar("SELECT attempt FROM tasks WHERE job_id = '" + poison + "' AND seq = 7"))
        .isEqualTo(3);
    JsonNode ok = harness.awaitTerminal(healthy, Duration.ofSeconds(90));
    harness.assertExactlyOnce(healthy, ok);
    assertThat(ok.get("result").get("totalWords").asLong()).isEqualTo(WORDS);
  }

  @Test
  void sigtermDrainsHandsUnfinishedTasksBackAtOnceAndExitsZero() throws Exception {
    Map<String, String> env = harness.workerEnv("drained");
    env.put("SLUICE_LEASE_DURATION", "60s");
    ChildJvm drained = harness.startWorker(env);
    awaitReady(Integer.parseInt(env.get("SLUICE_HTTP_PORT")));
    // Its tasks cannot finish before the gate opens, which is after the worker has exited: however
    // slow the machine, none finishes inside the drain grace, so all four must be handed back.
    Path gate = harness.dir.resolve("gate-" + System.nanoTime());
    String id = harness.submit(stepsBody(8, 1, 0, 3, gate));
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                harness.scalar(
                        "SELECT count(*) FROM tasks WHERE job_id = '"
                            + id
                            + "' AND status = 'RUNNING' AND worker_id = 'drained'")
                    == 4);
    long start = System.nanoTime();

    assertThat(drained.stop()).isZero();
    harness.workers.remove(drained);
    Files.createFile(gate);
    harness.startWorker();
    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(40));

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("well before the 60 s lease")
        .isLessThan(Duration.ofSeconds(40));
    harness.assertExactlyOnce(id, job);
    assertThat(
            harness.scalar(
                "SELECT count(*) FROM job_events WHERE job_id = '"
                    + id
                    + "' AND kind = 'HANDED_BACK'"))
        .isEqualTo(4);
    assertThat(job.get("result").get("totalSteps").asLong())
        .as("no handed-back task committed the success its stopped handler returned")
        .isEqualTo(8);
  }

  @Test
  void aWorkerThatStopsHeartbeatingIsMarkedDeadAndItsTasksAreReclaimedBeforeItsLeaseEnds()
      throws Exception {
    Map<String, String> env = harness.workerEnv("silent");
    env.put("SLUICE_LEASE_DURATION", "120s");
    ChildJvm silent = harness.startWorker(env);
    String id =
        harness.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":4,\"taskDelayMs\":1000}}");
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                harness.scalar(
                        "SELECT count(*) FROM tasks WHERE job_id = '"
                            + id
                            + "' AND status = 'RUNNING' AND worker_id = 'silent'")
                    == 4);
    silent.pause();
    long pausedAt = System.nanoTime();
    harness.startWorker();

    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(60));

    assertThat(Duration.ofNanos(System.nanoTime() - pausedAt))
        .as("long before the 120 s lease")
        .isLessThan(Duration.ofSeconds(40));
    assertThat(harness.scalar("SELECT count(*) FROM nodes WHERE id = 'silent' AND status = 'DEAD'"))
        .isEqualTo(1);
    harness.assertExactlyOnce(id, job);
    silent.resume();
  }

  private void assertSurvivesRedisLoss(Runnable loseRedis) throws Exception {
    harness.startWorkers(2);
    String id = harness.submit(FaultHarness.wordcountBody(TEXT, 10, 60));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> harness.tasksFinished(id) > 30);
    loseRedis.run();

    assertWordcountExact(id);
  }

  /** A {@code steps} job (see StepsJobType), optionally gated on a file. */
  private static String stepsBody(int tasks, int steps, int stepMs, int maxAttempts, Path gate) {
    var body = Json.object().put("type", "steps").put("maxAttempts", maxAttempts);
    var payload =
        body.putObject("payload").put("tasks", tasks).put("steps", steps).put("stepMs", stepMs);
    if (gate != null) {
      payload.put("gate", gate.toString());
    }
    return Json.write(body);
  }

  private void startSingleSlotWorker() {
    Map<String, String> env = harness.workerEnv("single-" + System.nanoTime());
    env.put("SLUICE_WORKER_CONCURRENCY", "1");
    harness.startWorker(env);
  }

  /** The job finished, every task counted once, and the word total equals the independent count. */
  private void assertWordcountExact(String id) throws Exception {
    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(120));
    harness.assertExactlyOnce(id, job);
    assertThat(job.get("result").get("totalWords").asLong()).isEqualTo(WORDS);
  }

  private boolean isTerminal(String id) {
    String status = harness.job(id).path("status").asText();
    return status.equals("SUCCEEDED") || status.equals("FAILED") || status.equals("CANCELLED");
  }

  private void awaitReady(int port) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> harness.workerMetrics(port).contains("sluice_"));
  }

  private static double zombiesRejected(String metrics) {
    return metrics
        .lines()
        .filter(l -> l.startsWith("sluice_zombie_commits_rejected_total"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
