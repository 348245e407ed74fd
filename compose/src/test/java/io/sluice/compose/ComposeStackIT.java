package io.sluice.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.FreePort;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * {@code docker-compose.yml} brought up on a real Docker engine ({@code -Dcompose.stack}, see the
 * README; skipped otherwise): the images of this build, Redis and PostgreSQL as the file names them
 * (stand-ins where Docker Hub cannot be reached), secrets generated for this run, the API published
 * on a free loopback port. A slow {@code wordcount} job is submitted over HTTP, and while it runs
 * the workers are scaled 3 → 1 → 4 and one of them is SIGKILLed holding tasks. The job must succeed
 * with the exact count, each task committed once, the killed worker's tasks run again elsewhere,
 * and the job collected once. The project is removed with its volumes at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ComposeStackIT {
  private static final int LINES = 8_000;
  private static final int LINES_PER_TASK = 2;
  private static final int TASK_DELAY_MS = 1_000;
  private static final Pattern WORKER_READY = Pattern.compile("Worker (\\S+) ready on port");

  private final Map<String, String> workerIds = new LinkedHashMap<>();
  private ComposeProject project;
  private StackRecords records;
  private JobClient api;
  private Thread downOnExit;
  private final long began = System.nanoTime();

  @BeforeAll
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void upWithThreeWorkers() throws Exception {
    Assumptions.assumeTrue(
        Boolean.getBoolean("sluice.compose.stack"),
        "the compose stack runs on a Docker engine with -Dcompose.stack (see the README)");
    Path dir = ComposeFile.dir();
    ComposeFile file = ComposeFile.load(ComposeFile.dotEnv(dir.resolve(".env.example")));
    for (String line :
        StackImages.provide(
            file,
            dir,
            Path.of(System.getProperty("sluice.coordinator.image")),
            Path.of(System.getProperty("sluice.worker.image")))) {
      log("%s", line);
    }
    String token = secret();
    int port = FreePort.find();
    Map<String, String> variables = new LinkedHashMap<>();
    variables.put("REDIS_PASSWORD", secret());
    variables.put("POSTGRES_ADMIN_PASSWORD", secret());
    variables.put("PG_OWNER_PASSWORD", secret());
    variables.put("PG_APP_PASSWORD", secret());
    variables.put("API_TOKENS", "stack:" + token);
    variables.put("IMAGE_TAG", System.getProperty("sluice.project.version"));
    variables.put("COORDINATOR_PUBLISH", "127.0.0.1:" + port);
    project = new ComposeProject(dir, "sluiceit" + secret().substring(0, 10), variables);
    records = new StackRecords(project);
    downOnExit = new Thread(project::down, "compose-down-" + project.name());
    Runtime.getRuntime().addShutdownHook(downOnExit);
    log("project %s with %s", project.name(), project.tool());
    project.up(3);
    log("up");
    awaitHealthy(3);
    log("healthy with 3 workers");
    api = new JobClient("http://127.0.0.1:" + port, token);
  }

  @AfterAll
  void down() {
    if (project == null) {
      return;
    }
    Cli.Result down = project.down();
    log("down -v");
    Runtime.getRuntime().removeShutdownHook(downOnExit);
    down.ok();
    assertThat(project.running("worker")).isEmpty();
  }

  @Test
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aJobCountsExactlyWhileWorkersAreScaledThreeToOneToFourAndOneIsKilled() throws Exception {
    String text = text(LINES, 14);
    String id = api.submitWordcount(text, LINES_PER_TASK, TASK_DELAY_MS);
    int taskCount = LINES / LINES_PER_TASK;
    try {
      step(id, "submitted; 3 workers");
      awaitSucceeded(id, taskCount / 10);
      project.scaleWorkers(1);
      assertThat(project.running("worker")).hasSize(1);
      int atOne = assertMidJob(id, taskCount);
      step(id, "scaled to 1 worker");
      awaitSucceeded(id, atOne + taskCount / 10);
      project.scaleWorkers(4);
      awaitWorkersReady(4);
      step(id, "scaled to 4 workers, all ready");
      String victim = awaitEveryWorkerHoldingTasks(id);
      project.kill(victim);
      List<String> stranded = records.heldBy(id, workerIds.get(victim));
      step(id, "killed " + workerIds.get(victim) + " holding " + stranded.size() + " task(s)");
      assertThat(stranded).as("tasks the killed worker held when it died").isNotEmpty();
      assertMidJob(id, taskCount);

      JsonNode job = api.awaitTerminal(id, Duration.ofMinutes(4));
      step(id, "finished");
      assertCountedExactlyOnce(id, job, text, taskCount);
      assertRunAgainElsewhere(id, stranded, workerIds.get(victim));
      assertThat(records.committers(id))
          .as("every worker but the killed one committed tasks of the job")
          .containsAll(
              workerIds.values().stream().filter(w -> !w.equals(workerIds.get(victim))).toList());
      awaitHealthy(3);
      log("the stack is healthy with the 3 workers left");
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          e.getMessage()
              + "\n--- job ---\n"
              + describe(id)
              + "\n--- compose logs ---\n"
              + project.logsTail(),
          e);
    }
  }

  private String describe(String id) {
    try {
      return api.job(id).toString();
    } catch (RuntimeException | AssertionError e) {
      return "(not readable: " + e.getMessage() + ")";
    }
  }

  /** One line per step with the job's counts then. */
  private void step(String id, String what) {
    JsonNode job = api.job(id);
    log(
        "%s (job %s, %d of %d tasks succeeded)",
        what,
        job.path("status").asText(),
        job.path("tasksSucceeded").asInt(),
        job.path("taskCount").asInt());
  }

  /** A line of the test's report, with the seconds since the class began. */
  private void log(String format, Object... args) {
    System.out.printf(
        "compose-stack: %6.1f s %s%n", (System.nanoTime() - began) / 1e9, format.formatted(args));
  }

  private void assertCountedExactlyOnce(String id, JsonNode job, String text, int taskCount) {
    assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    assertThat(job.path("taskCount").asInt()).isEqualTo(taskCount);
    assertThat(job.path("tasksSucceeded").asInt()).isEqualTo(taskCount);
    assertThat(job.path("tasksFailed").asInt()).isZero();
    List<String> words = words(text);
    assertThat(job.path("result").path("totalWords").asLong())
        .as("totalWords")
        .isEqualTo(words.size());
    assertThat(job.path("result").path("distinctWords").asLong())
        .as("distinctWords")
        .isEqualTo(new HashSet<>(words).size());
    assertThat(records.tasks(id)).isEqualTo(taskCount);
    assertThat(records.tasksIn(id, "SUCCEEDED"))
        .as("each task has one committed result")
        .isEqualTo(taskCount);
    assertThat(records.successes(id)).as("collected exactly once").isEqualTo(1);
    assertThat(records.collectAttempts(id)).isEqualTo(1);
  }

  private void assertRunAgainElsewhere(String id, List<String> seqs, String deadWorker) {
    List<StackRecords.TaskRow> rows = records.rows(id, seqs);
    assertThat(rows).hasSameSizeAs(seqs);
    for (StackRecords.TaskRow row : rows) {
      assertThat(row.status()).as(row.toString()).isEqualTo("SUCCEEDED");
      assertThat(row.attempt()).as("attempt of " + row).isGreaterThan(1);
      assertThat(row.workerId()).as(row.toString()).isNotEqualTo(deadWorker);
    }
  }

  /** The job's counts now, asserting it is still running: what happens next is mid-job. */
  private int assertMidJob(String id, int taskCount) {
    JsonNode job = api.job(id);
    assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("RUNNING");
    int succeeded = job.path("tasksSucceeded").asInt();
    assertThat(succeeded).as("tasks succeeded so far").isLessThan(taskCount);
    return succeeded;
  }

  private void awaitSucceeded(String id, int atLeast) {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> api.job(id).path("tasksSucceeded").asInt() >= atLeast);
  }

  /** Every service healthy (Docker's health checks) with {@code workers} workers running. */
  private void awaitHealthy(int workers) {
    try {
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  project.running("worker").size() == workers
                      && allHealthy("redis", "postgres", "coordinator", "worker"));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("stack not healthy:\n" + project.logsTail(), e);
    }
    awaitWorkersReady(workers);
  }

  /**
   * {@code workers} workers running, each of which logged that it is ready; learns their ids. Not
   * Docker's health: its checks run every few seconds, and a job would not wait for them.
   */
  private void awaitWorkersReady(int workers) {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              List<String> running = project.running("worker");
              for (String container : running) {
                if (!workerIds.containsKey(container)) {
                  Matcher m = WORKER_READY.matcher(project.logs(container));
                  if (m.find()) {
                    workerIds.put(container, m.group(1));
                  }
                }
              }
              return running.size() == workers && workerIds.keySet().containsAll(running);
            });
  }

  private boolean allHealthy(String... services) {
    for (String service : services) {
      List<String> running = project.running(service);
      if (running.isEmpty()
          || !running.stream().allMatch(c -> "healthy".equals(project.health(c)))) {
        return false;
      }
    }
    return true;
  }

  /** Waits until each running worker holds tasks of the job; returns a newest one's container. */
  private String awaitEveryWorkerHoldingTasks(String id) {
    List<String> running = project.running("worker");
    Predicate<Set<String>> allHold =
        holders -> running.stream().allMatch(c -> holders.contains(workerIds.get(c)));
    await()
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> records.holders(id), allHold);
    // docker ps lists the newest container first: one of the workers the scale-up started.
    return running.getFirst();
  }

  /** Deterministic text of {@code lines} lines: mixed case, punctuation, accented letters. */
  static String text(int lines, long seed) {
    String[] vocabulary = {"Sluice", "job", "Worker", "scale", "naïve", "Zürich", "the", "a", "of"};
    Random random = new Random(seed);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      int n = 3 + random.nextInt(10);
      for (int w = 0; w < n; w++) {
        sb.append(vocabulary[random.nextInt(vocabulary.length)]).append(w % 4 == 3 ? ", " : " ");
      }
      sb.append(i % 7 == 0 ? "-- 42!\n" : "word" + (i % 50) + ".\n");
    }
    return sb.toString();
  }

  /** The words the contract counts: lower-cased, split on non-letters (digits split too). */
  static List<String> words(String text) {
    return Pattern.compile("\\P{L}+")
        .splitAsStream(text.toLowerCase(Locale.ROOT))
        .filter(w -> !w.isEmpty())
        .toList();
  }

  private static String secret() {
    byte[] bytes = new byte[16];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
