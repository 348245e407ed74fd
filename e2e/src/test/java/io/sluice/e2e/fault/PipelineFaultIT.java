package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import redis.clients.jedis.Jedis;

/**
 * Pipelines under faults injected into real processes: a diamond of two {@code wordcount} stages
 * ({@code left}, {@code right}) over the two halves of a text, joined by a {@code noop} stage
 * ({@code total}) and by their {@code merge} ({@code merged}), survives a worker JVM killed while
 * the parallel stages run, Redis restarted empty at a stage boundary, PostgreSQL stopped as the
 * join's split would commit, and the coordinator that is leader killed while it collects a stage.
 * After each, every stage was split once and collected once, each task committed once, and the
 * stages' word totals add up to an independent count of the whole text.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineFaultIT {
  private static final String TEXT = Corpus.text(600, 23);
  private static final String LEFT = half(TEXT, 0);
  private static final String RIGHT = half(TEXT, 1);

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
  void serversUpAndTwoWorkers() {
    // A failed test must not leave the next one without its servers.
    harness.postgres.start();
    if (!harness.redis.isRunning()) {
      harness.redis.start();
    }
    harness.workers.removeIf(w -> !w.isAlive());
    while (harness.workers.size() < 2) {
      harness.startWorker();
    }
  }

  @Test
  void aWorkerKilledWhileTheParallelStagesRunLosesNothing() throws Exception {
    String id =
        harness.submit(
            diamond(wordcount("left", LEFT, 10, 400), wordcount("right", RIGHT, 10, 400), 4, 0));
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> finishedIn(harness, id, "left") + finishedIn(harness, id, "right") >= 8);
    String[] busy = new String[1];
    Awaitility.await("a worker running a task of left or right")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                (busy[0] =
                        firstValue(
                            harness,
                            "SELECT t.worker_id FROM tasks t JOIN jobs s ON s.id = t.job_id"
                                + " WHERE s.parent_id = '"
                                + id
                                + "' AND s.stage_name IN ('left', 'right')"
                                + " AND t.status = 'RUNNING'"))
                    != null);
    ChildJvm victim =
        harness.workers.stream().filter(w -> w.name().equals(busy[0])).findFirst().orElseThrow();
    victim.kill();
    harness.workers.remove(victim);
    harness.startWorker();

    assertPipelineExact(harness, id, 4, Duration.ofSeconds(60));
    assertThat(eventsOfStages(harness, id, "kind = 'RECLAIM'"))
        .as("the killed worker's running tasks were reclaimed")
        .isPositive();
  }

  @Test
  void redisRestartedEmptyAsTheJoinIsSplitLosesNothing() throws Exception {
    assertSurvivesRedisLossAtTheJoin(() -> harness.redis.restart());
  }

  @Test
  void redisFlushedAsTheJoinIsSplitLosesNothing() throws Exception {
    assertSurvivesRedisLossAtTheJoin(
        () -> {
          try (Jedis jedis = new Jedis(URI.create(harness.redis.url()))) {
            jedis.flushAll(); // the harness's own Redis, never the machine's
          }
        });
  }

  /** Redis loses everything the moment the joins were split, before their tasks ran. */
  private void assertSurvivesRedisLossAtTheJoin(RedisLoss loss) throws Exception {
    String id =
        harness.submit(
            diamond(wordcount("left", LEFT, 10, 20), wordcount("right", RIGHT, 10, 20), 16, 400));
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> !statusOf(harness, id, "total").equals("WAITING"));
    loss.run();
    long joinFinishedBefore = finishedIn(harness, id, "total");

    assertPipelineExact(harness, id, 16, Duration.ofSeconds(60));
    assertThat(joinFinishedBefore)
        .as("the join's tasks were still to run when Redis lost its data")
        .isLessThan(16);
  }

  @FunctionalInterface
  private interface RedisLoss {
    void run() throws Exception;
  }

  @Test
  void postgresStoppedAsTheParallelStagesFinishSplitsTheJoinOnce() throws Exception {
    String id =
        harness.submit(
            diamond(wordcount("left", LEFT, 10, 300), wordcount("right", RIGHT, 10, 300), 4, 0));
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> finishedIn(harness, id, "left") + finishedIn(harness, id, "right") >= 52);
    harness.postgres.stopImmediately();
    // The last tasks finish while PostgreSQL is away: their commits, the stages' collections and
    // the join's split all wait for it.
    Awaitility.await().pollDelay(Duration.ofSeconds(4)).until(() -> true);
    harness.postgres.start();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> harness.readyStatus() == 200);

    assertPipelineExact(harness, id, 4, Duration.ofSeconds(60));
  }

  @Test
  void theLeaderKilledWhileItCollectsAStageIsTakenOverAndEachStageCollectedOnce() throws Exception {
    String key = "pipeline-" + UUID.randomUUID();
    try (FaultHarness own = new FaultHarness(Duration.ofSeconds(1), false)) {
      int portA = FaultHarness.freePort();
      int portB = FaultHarness.freePort();
      ChildJvm a = own.startCoordinator("coordinator-a", portA);
      own.useApi(portA);
      awaitReady(own);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> "coordinator-a".equals(leader(own)));
      own.startWorkers(2);
      ObjectNode left = wordcount("left", LEFT, 30, 0);
      left.put("type", "slowcollect");
      ((ObjectNode) left.get("payload"))
          .put("key", key)
          .put("collectDelayMs", 120_000)
          .put("once", true);
      String id = own.submit(diamond(left, wordcount("right", RIGHT, 10, 50), 4, 0));
      String collecting = "slowcollect: collecting " + key + " on ";
      Awaitility.await("the leader starts collecting left")
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.readString(a.logFile()).contains(collecting + "coordinator-a"));
      ChildJvm b = own.startCoordinator("coordinator-b", portB);
      own.useApi(portB);
      awaitReady(own);
      assertThat(leader(own)).isEqualTo("coordinator-a");
      assertThat(statusOf(own, id, "left")).isEqualTo("COLLECTING");

      a.kill();

      assertPipelineExact(own, id, 4, Duration.ofSeconds(60));
      assertThat(leader(own)).isEqualTo("coordinator-b");
      assertThat(Files.readString(b.logFile()))
          .as("the survivor took the collection over")
          .contains(collecting + "coordinator-b");
      assertThat(
              own.scalar(
                  "SELECT collect_attempts FROM jobs WHERE parent_id = '"
                      + id
                      + "' AND stage_name = 'left'"))
          .isEqualTo(2);
    } finally {
      Files.deleteIfExists(Path.of(System.getProperty("java.io.tmpdir"), "slowcollect-" + key));
    }
  }

  /**
   * The pipeline SUCCEEDED; each stage was split (WAITING → QUEUED) once and collected (COLLECTING
   * → SUCCEEDED) once, each of its tasks committed once; the join ran its {@code joinTasks}; the
   * word totals of {@code left} and {@code right} are those of their halves and add up to the whole
   * text's.
   */
  private static void assertPipelineExact(
      FaultHarness h, String id, int joinTasks, Duration timeout) throws Exception {
    JsonNode job = h.awaitTerminal(id, timeout);
    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    Map<String, JsonNode> stages = new LinkedHashMap<>();
    job.get("stages").forEach(s -> stages.put(s.get("name").asText(), s));
    assertThat(stages.keySet()).containsExactly("left", "right", "total", "merged");
    for (JsonNode s : stages.values()) {
      assertThat(s.get("status").asText()).as(s.toString()).isEqualTo("SUCCEEDED");
      assertThat(s.get("tasksSucceeded").asInt())
          .as(s.toString())
          .isEqualTo(s.get("taskCount").asInt());
    }
    assertThat(
            perStage(h, id, "kind = 'STATUS' AND from_status = 'WAITING' AND to_status = 'QUEUED'"))
        .as("every stage split exactly once")
        .isEqualTo(Map.of("left", 1L, "right", 1L, "total", 1L, "merged", 1L));
    assertThat(
            perStage(
                h,
                id,
                "kind = 'STATUS' AND from_status = 'COLLECTING' AND to_status = 'SUCCEEDED'"))
        .as("every stage collected exactly once")
        .isEqualTo(Map.of("left", 1L, "right", 1L, "total", 1L, "merged", 1L));
    assertThat(
            h.scalar(
                "SELECT count(*) FROM job_events WHERE job_id = '"
                    + id
                    + "' AND kind = 'STATUS' AND to_status = 'SUCCEEDED'"))
        .as("the pipeline succeeded once")
        .isEqualTo(1);
    assertThat(
            h.scalar(
                "SELECT count(*) FROM tasks t JOIN jobs s ON s.id = t.job_id WHERE s.parent_id = '"
                    + id
                    + "' AND t.status = 'SUCCEEDED'"))
        .as("each task has exactly one committed result")
        .isEqualTo(job.get("taskCount").asLong())
        .isEqualTo(job.get("tasksSucceeded").asLong());
    assertThat(stages.get("total").get("taskCount").asInt()).isEqualTo(joinTasks);
    long left = stages.get("left").get("result").get("totalWords").asLong();
    long right = stages.get("right").get("result").get("totalWords").asLong();
    assertThat(left).isEqualTo(FaultHarness.countWords(LEFT));
    assertThat(right).isEqualTo(FaultHarness.countWords(RIGHT));
    assertThat(left + right).isEqualTo(FaultHarness.countWords(TEXT));
    JsonNode merged = job.get("result").get("merged");
    assertThat(merged.get("totalWords").asLong()).isEqualTo(FaultHarness.countWords(TEXT));
    long distinct =
        Pattern.compile("\\P{L}+")
            .splitAsStream(TEXT.toLowerCase(Locale.ROOT))
            .filter(w -> !w.isEmpty())
            .distinct()
            .count();
    assertThat(merged.get("distinctWords").asLong()).isEqualTo(distinct);
  }

  /** How many events matching {@code condition} each stage of the pipeline has, by stage name. */
  private static Map<String, Long> perStage(FaultHarness h, String id, String condition)
      throws Exception {
    Map<String, Long> counts = new LinkedHashMap<>();
    try (Connection c = h.postgres.connect(FaultHarness.DATABASE);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT s.stage_name, (SELECT count(*) FROM job_events e WHERE e.job_id = s.id AND "
                    + condition
                    + ") FROM jobs s WHERE s.parent_id = ? ORDER BY s.stage_idx")) {
      ps.setObject(1, UUID.fromString(id));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return counts;
  }

  private static long eventsOfStages(FaultHarness h, String id, String condition) throws Exception {
    return perStage(h, id, condition).values().stream().mapToLong(Long::longValue).sum();
  }

  private static long finishedIn(FaultHarness h, String id, String stage) throws Exception {
    return h.scalar(
        "SELECT tasks_succeeded + tasks_failed FROM jobs WHERE parent_id = '"
            + id
            + "' AND stage_name = '"
            + stage
            + "'");
  }

  private static String statusOf(FaultHarness h, String id, String stage) throws Exception {
    return firstValue(
        h,
        "SELECT status FROM jobs WHERE parent_id = '" + id + "' AND stage_name = '" + stage + "'");
  }

  /** The node holding the leader lease, or null. */
  private static String leader(FaultHarness h) throws Exception {
    return firstValue(h, "SELECT node_id FROM coordinator_leader WHERE lease_until > now()");
  }

  private static String firstValue(FaultHarness h, String sql) throws Exception {
    try (Connection c = h.postgres.connect(FaultHarness.DATABASE);
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static void awaitReady(FaultHarness h) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> h.readyStatus() == 200);
  }

  /**
   * left and right in parallel, then two joins of both: {@code total}, {@code noop} of {@code
   * joinTasks} tasks (its length places the faults), and {@code merged}, their {@code merge}.
   */
  private static String diamond(ObjectNode left, ObjectNode right, int joinTasks, int joinDelayMs) {
    ObjectNode total = Json.object().put("name", "total").put("type", "noop");
    total.putObject("payload").put("tasks", joinTasks).put("taskDelayMs", joinDelayMs);
    total.putArray("dependsOn").add("left").add("right");
    ObjectNode body = Json.object().put("maxAttempts", 10);
    ArrayNode stages = body.putArray("stages");
    ObjectNode merged = Json.object().put("name", "merged").put("type", "merge");
    merged.putArray("dependsOn").add("left").add("right");
    stages.add(left).add(right).add(total).add(merged);
    return Json.write(body);
  }

  private static ObjectNode wordcount(String name, String text, int linesPerTask, int delayMs) {
    ObjectNode stage = Json.object().put("name", name).put("type", "wordcount");
    stage
        .putObject("payload")
        .put("text", text)
        .put("linesPerTask", linesPerTask)
        .put("taskDelayMs", delayMs)
        .put("counts", true);
    return stage;
  }

  /** The first ({@code part} 0) or second half of the text's lines. */
  private static String half(String text, int part) {
    String[] lines = text.split("\n");
    int middle = lines.length / 2;
    StringBuilder sb = new StringBuilder();
    for (int i = part == 0 ? 0 : middle; i < (part == 0 ? middle : lines.length); i++) {
      sb.append(lines[i]).append('\n');
    }
    return sb.toString();
  }
}
