package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Pipelines over HTTP: graphs of stages split, run and collected exactly once each, in dependency
 * order, with two workers on the default queue and one on a queue of its own ({@code gpu}).
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StagesIT {
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 2, 16);
    stack.workers.add(
        Worker.start(Stack.workerBuilder(env, "gpu", 4).queues(List.of("gpu")).build()));
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void aDiamondRunsEachStageOnceAfterItsDependenciesWithItsOwnCounts() throws Exception {
    String id =
        submit(
            stages(
                stage("a", "noop", "{\"tasks\":30,\"taskDelayMs\":5}"),
                stage("b", "noop", "{\"tasks\":20}"),
                stage("c", "noop", "{\"tasks\":5}", "a", "b")));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(60));
    JsonNode full = Json.read(stack.get("/api/v1/jobs/" + id).body());

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("type").asText()).isEqualTo("pipeline");
    assertThat(job.get("taskCount").asInt()).isEqualTo(55);
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(55);
    Map<String, JsonNode> byName = byName(full.get("stages"));
    assertThat(byName.keySet()).containsExactly("a", "b", "c");
    for (JsonNode s : byName.values()) {
      assertThat(s.get("status").asText()).isEqualTo("SUCCEEDED");
      assertThat(s.get("tasksSucceeded").asInt()).isEqualTo(s.get("taskCount").asInt());
    }
    assertThat(byName.get("c").get("dependsOn").toString()).isEqualTo("[\"a\",\"b\"]");
    assertThat(job.get("result").get("c").get("succeeded").asInt())
        .as("the result is keyed by the final stage")
        .isEqualTo(5);
    assertThat(job.get("result").has("a")).isFalse();
    // c started only after a and b had both finished.
    assertThat(instant(byName.get("c"), "startedAt"))
        .isAfterOrEqualTo(instant(byName.get("a"), "finishedAt"))
        .isAfterOrEqualTo(instant(byName.get("b"), "finishedAt"));
    assertThat(splitsOf(id)).as("every stage split exactly once").containsOnly(1L);
    assertThat(collectsOf(id)).as("every stage collected exactly once").containsOnly(1L);
  }

  @Test
  void aDiamondOfWordcountsJoinedByMergeCountsEveryWordOfTheWholeTextExactly() {
    String[] lines = Corpus.text(2_000, 11).split("\n");
    int half = lines.length / 2;
    String first = String.join("\n", Arrays.copyOfRange(lines, 0, half));
    String second = String.join("\n", Arrays.copyOfRange(lines, half, lines.length));
    Map<String, Long> expected = new HashMap<>();
    for (String word :
        Pattern.compile("\\P{L}+").split(String.join("\n", lines).toLowerCase(Locale.ROOT))) {
      if (!word.isEmpty()) {
        expected.merge(word, 1L, Long::sum);
      }
    }
    ObjectNode left = stage("left", "wordcount", "{}");
    left.putObject("payload").put("text", first).put("linesPerTask", 40).put("counts", true);
    ObjectNode right = stage("right", "wordcount", "{}");
    right.putObject("payload").put("text", second).put("linesPerTask", 40).put("counts", true);
    ObjectNode total = stage("total", "merge", "{\"top\":5}", "left", "right");
    String id = submit(stages(left, right, total));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(90));

    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    JsonNode merged = job.get("result").get("total");
    assertThat(merged.get("totalWords").asLong())
        .isEqualTo(expected.values().stream().mapToLong(Long::longValue).sum());
    assertThat(merged.get("distinctWords").asInt()).isEqualTo(expected.size());
    assertThat(merged.get("top")).hasSize(5);
    Map<String, Long> counted = new HashMap<>();
    merged
        .get("counts")
        .fields()
        .forEachRemaining(e -> counted.put(e.getKey(), e.getValue().asLong()));
    assertThat(counted).isEqualTo(expected);
  }

  @Test
  void aChainOfTwentyStagesRunsInOrder() {
    List<ObjectNode> chain = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      chain.add(
          i == 0
              ? stage("s0", "noop", "{\"tasks\":3}")
              : stage("s" + i, "noop", "{\"tasks\":3}", "s" + (i - 1)));
    }
    String id = submit(stages(chain.toArray(ObjectNode[]::new)));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(90));
    JsonNode stages = Json.read(stack.get("/api/v1/jobs/" + id).body()).get("stages");

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(60);
    for (int i = 1; i < 20; i++) {
      assertThat(instant(stages.get(i), "startedAt"))
          .isAfterOrEqualTo(instant(stages.get(i - 1), "finishedAt"));
    }
    assertThat(job.get("result").fieldNames()).toIterable().containsExactly("s19");
  }

  @Test
  void aFanOfFiftyParallelStagesJoinsIntoOneStageSplitOnce() throws Exception {
    List<ObjectNode> fan = new ArrayList<>();
    String[] names = new String[50];
    for (int i = 0; i < 50; i++) {
      names[i] = "p" + i;
      fan.add(stage(names[i], "noop", "{\"tasks\":4}"));
    }
    fan.add(stage("join", "noop", "{\"tasks\":1}", names));
    String id = submit(stages(fan.toArray(ObjectNode[]::new)));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(120));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("taskCount").asInt()).isEqualTo(201);
    assertThat(splitsOf(id)).hasSize(51).containsOnly(1L);
    assertThat(collectsOf(id)).hasSize(51).containsOnly(1L);
  }

  @Test
  void aStageRunsOnTheWorkersOfItsOwnQueue() throws Exception {
    ObjectNode gpu = stage("render", "noop", "{\"tasks\":6}", "prepare");
    gpu.put("queue", "gpu");
    String id = submit(stages(stage("prepare", "noop", "{\"tasks\":6}"), gpu));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(60));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    JsonNode render =
        Json.read(stack.get("/api/v1/jobs/" + id + "/tasks?stage=render").body()).get("items");
    assertThat(render).hasSize(6);
    for (JsonNode t : render) {
      assertThat(t.get("stage").asText()).isEqualTo("render");
      assertThat(t.get("workerId").asText()).startsWith("gpu-");
    }
    JsonNode prepare =
        Json.read(stack.get("/api/v1/jobs/" + id + "/tasks?stage=prepare").body()).get("items");
    for (JsonNode t : prepare) {
      assertThat(t.get("workerId").asText()).doesNotStartWith("gpu-");
    }
    JsonNode all = Json.read(stack.get("/api/v1/jobs/" + id + "/tasks?limit=4").body());
    Set<String> seen = new HashSet<>();
    String cursor = null;
    do {
      JsonNode page =
          Json.read(
              stack
                  .get(
                      "/api/v1/jobs/"
                          + id
                          + "/tasks?limit=4"
                          + (cursor == null ? "" : "&cursor=" + cursor))
                  .body());
      page.get("items").forEach(t -> seen.add(t.get("stage").asText() + "/" + t.get("seq")));
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
    } while (cursor != null);
    assertThat(all.get("items")).hasSize(4);
    assertThat(seen).as("paging walks every task of every stage once").hasSize(12);
  }

  @Test
  void aFailedStageFailsTheJobAndItsDependentsAreNeverSplit() throws Exception {
    String id =
        submit(
            stages(
                stage("ok", "noop", "{\"tasks\":3}"),
                stage("bad", "noop", "{\"tasks\":3,\"fail\":[1]}"),
                stage("after", "noop", "{\"tasks\":3}", "ok", "bad")));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(60));
    Map<String, JsonNode> byName =
        byName(Json.read(stack.get("/api/v1/jobs/" + id).body()).get("stages"));

    assertThat(job.get("status").asText()).isEqualTo("FAILED");
    assertThat(job.get("error").asText()).startsWith("stage 'bad' failed: task 1 failed");
    assertThat(byName.get("bad").get("status").asText()).isEqualTo("FAILED");
    assertThat(byName.get("after").get("status").asText()).isEqualTo("CANCELLED");
    assertThat(byName.get("after").get("taskCount").asInt()).isZero();
    assertThat(tasksOfStage(id, "after")).as("the dependent was never split").isZero();
    var requeue =
        stack.post(
            "/api/v1/jobs/" + id + "/tasks/1/requeue", "application/json", Stack.ADMIN_TOKEN, "");
    assertThat(requeue.statusCode()).as(requeue.body()).isEqualTo(409);
    assertThat(requeue.body()).contains("a task of a pipeline cannot be requeued");
    String stageRow;
    try (Connection c = stack.env.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT id FROM jobs WHERE parent_id = ? AND stage_name = 'bad'")) {
      ps.setObject(1, UUID.fromString(id));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        stageRow = rs.getString(1);
      }
    }
    var byStageRow =
        stack.post(
            "/api/v1/jobs/" + stageRow + "/tasks/1/requeue",
            "application/json",
            Stack.ADMIN_TOKEN,
            "");
    assertThat(byStageRow.statusCode())
        .as("the dashboard's dead letters name the stage's row")
        .isEqualTo(409);
    assertThat(stack.job(id).get("status").asText()).isEqualTo("FAILED");
    assertThat(
            byName(Json.read(stack.get("/api/v1/jobs/" + id).body()).get("stages"))
                .get("bad")
                .get("status")
                .asText())
        .isEqualTo("FAILED");
  }

  @Test
  void underContinueAFailedTaskIsCollectedAndTheDependentsRun() {
    ObjectNode tolerant = stage("bad", "noop", "{\"tasks\":3,\"fail\":[0]}");
    tolerant.put("onTaskFailure", "continue");
    String id = submit(stages(tolerant, stage("after", "noop", "{\"tasks\":2}", "bad")));

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(60));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksFailed").asInt()).isEqualTo(1);
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(4);
  }

  @Test
  void cancellingAPipelineStopsEveryStage() throws Exception {
    String id =
        submit(
            stages(
                stage("slow", "noop", "{\"tasks\":40,\"taskDelayMs\":500}"),
                stage("next", "noop", "{\"tasks\":3}", "slow")));
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> stack.job(id).get("status").asText().equals("RUNNING"));

    var cancel = stack.post("/api/v1/jobs/" + id + "/cancel", "application/json", Stack.TOKEN, "");

    assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
    Map<String, JsonNode> byName =
        byName(Json.read(stack.get("/api/v1/jobs/" + id).body()).get("stages"));
    assertThat(byName.get("slow").get("status").asText()).isEqualTo("CANCELLED");
    assertThat(byName.get("next").get("status").asText()).isEqualTo("CANCELLED");
    Awaitility.await("no task of the pipeline is left running")
        .atMost(Duration.ofSeconds(20))
        .until(() -> runningTasks(id) == 0);
    assertThat(tasksOfStage(id, "next")).isZero();
  }

  @Test
  void invalidPipelinesAreRefusedNamingTheStageAndFieldAndNothingIsWritten() throws Exception {
    long before = jobRows();
    assertRefused(
        "{\"type\":\"noop\",\"stages\":[{\"name\":\"a\",\"type\":\"noop\"}]}", "type", null);
    assertRefused("{\"stages\":[]}", "stages", null);
    assertRefused(
        "{\"stages\":[{\"name\":\"Bad Name\",\"type\":\"noop\"}]}", "stages[0].name", null);
    assertRefused(
        "{\"stages\":[{\"name\":\"a\",\"type\":\"noop\",\"payload\":{\"tasks\":1}},"
            + "{\"name\":\"a\",\"type\":\"noop\",\"payload\":{\"tasks\":1}}]}",
        "stages[1].name",
        "a");
    assertRefused(
        "{\"stages\":[{\"name\":\"a\",\"type\":\"noop\",\"payload\":{\"tasks\":1},"
            + "\"dependsOn\":[\"ghost\"]}]}",
        "stages[0].dependsOn",
        "a");
    var cycle =
        assertRefused(
            "{\"stages\":[{\"name\":\"root\",\"type\":\"noop\",\"payload\":{\"tasks\":1}},"
                + "{\"name\":\"x\",\"type\":\"noop\",\"payload\":{\"tasks\":1},\"dependsOn\":[\"y\"]},"
                + "{\"name\":\"y\",\"type\":\"noop\",\"payload\":{\"tasks\":1},\"dependsOn\":[\"x\"]}]}",
            "stages[1].dependsOn",
            "x");
    assertThat(cycle.get("error").asText()).contains("cycle").contains("x → y → x");
    assertRefused(
        "{\"stages\":[{\"name\":\"a\",\"type\":\"noop\",\"payload\":{\"tasks\":0}}]}",
        "stages[0].payload.tasks",
        "a");
    assertRefused("{\"stages\":[{\"name\":\"a\",\"type\":\"nosuchtype\"}]}", "stages[0].type", "a");
    assertThat(jobRows()).as("nothing was written").isEqualTo(before);
  }

  @Test
  void theEventStreamReportsEachStagesTransitionsInDependencyOrder() {
    UUID id =
        UUID.fromString(
            submit(
                stages(
                    stage("a", "noop", "{\"tasks\":8,\"taskDelayMs\":100}"),
                    stage("b", "noop", "{\"tasks\":2,\"taskDelayMs\":800}", "a"))));
    var stream = new JobApi(stack).events(id);
    List<JsonNode> stageEvents = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    String event = null;
    for (var it = stream.body().iterator(); it.hasNext(); ) {
      String line = it.next();
      if (line.startsWith("event: ")) {
        event = line.substring(7);
        kinds.add(event);
      } else if (line.startsWith("data: ") && "stage".equals(event)) {
        stageEvents.add(Json.read(line.substring(6)));
      } else if (line.startsWith("data: ") && "end".equals(event)) {
        break;
      }
    }

    List<String> seen =
        stageEvents.stream()
            .map(e -> e.get("name").asText() + ":" + e.get("status").asText())
            .toList();
    assertThat(seen).contains("b:WAITING", "a:SUCCEEDED", "b:RUNNING", "b:SUCCEEDED");
    assertThat(seen.indexOf("b:RUNNING")).isGreaterThan(seen.indexOf("a:SUCCEEDED"));
    assertThat(seen.indexOf("b:SUCCEEDED")).isGreaterThan(seen.indexOf("b:RUNNING"));
    assertThat(kinds.get(kinds.size() - 1)).isEqualTo("end");
  }

  @Test
  void aOneStageJobShowsItsOnlyStageMain() {
    var created = stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":2}}");
    String id = Json.read(created.body()).get("id").asText();
    stack.awaitTerminal(id, Duration.ofSeconds(30));

    JsonNode stages = Json.read(stack.get("/api/v1/jobs/" + id).body()).get("stages");

    assertThat(stages).hasSize(1);
    assertThat(stages.get(0).get("name").asText()).isEqualTo("main");
    assertThat(stages.get(0).get("status").asText()).isEqualTo("SUCCEEDED");
    JsonNode tasks = Json.read(stack.get("/api/v1/jobs/" + id + "/tasks").body()).get("items");
    assertThat(tasks.get(0).get("stage").asText()).isEqualTo("main");
  }

  private JsonNode assertRefused(String body, String field, String stage) {
    var response = stack.submit(body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    JsonNode error = Json.read(response.body());
    assertThat(error.get("field").asText()).as(response.body()).isEqualTo(field);
    if (stage != null) {
      assertThat(error.get("stage").asText()).as(response.body()).isEqualTo(stage);
    }
    return error;
  }

  private String submit(ObjectNode body) {
    var created = stack.submit(Json.write(body));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).get("id").asText();
  }

  static ObjectNode stages(ObjectNode... stages) {
    ObjectNode body = Json.object();
    ArrayNode list = body.putArray("stages");
    for (ObjectNode s : stages) {
      list.add(s);
    }
    return body;
  }

  static ObjectNode stage(String name, String type, String payload, String... dependsOn) {
    ObjectNode s = Json.object().put("name", name).put("type", type);
    s.set("payload", Json.read(payload));
    ArrayNode deps = s.putArray("dependsOn");
    for (String d : dependsOn) {
      deps.add(d);
    }
    return s;
  }

  private static Map<String, JsonNode> byName(JsonNode stages) {
    Map<String, JsonNode> byName = new LinkedHashMap<>();
    stages.forEach(s -> byName.put(s.get("name").asText(), s));
    return byName;
  }

  private static Instant instant(JsonNode stage, String field) {
    return Instant.parse(stage.get(field).asText());
  }

  /** How many times each stage of the pipeline moved WAITING → QUEUED (was split). */
  private List<Long> splitsOf(String id) throws Exception {
    return countPerStage(id, "from_status = 'WAITING' AND to_status = 'QUEUED'");
  }

  /** How many times each stage of the pipeline was collected (COLLECTING → SUCCEEDED). */
  private List<Long> collectsOf(String id) throws Exception {
    return countPerStage(id, "from_status = 'COLLECTING' AND to_status = 'SUCCEEDED'");
  }

  private List<Long> countPerStage(String id, String condition) throws Exception {
    List<Long> counts = new ArrayList<>();
    try (Connection c = stack.env.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (SELECT count(*) FROM job_events e WHERE e.job_id = s.id AND "
                    + condition
                    + ") FROM jobs s WHERE s.parent_id = ? ORDER BY s.stage_idx")) {
      ps.setObject(1, UUID.fromString(id));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.add(rs.getLong(1));
        }
      }
    }
    return counts;
  }

  private long tasksOfStage(String id, String stage) throws Exception {
    return scalar(
        "SELECT count(*) FROM tasks t JOIN jobs s ON s.id = t.job_id"
            + " WHERE s.parent_id = ? AND s.stage_name = '"
            + stage
            + "'",
        id);
  }

  private long runningTasks(String id) throws Exception {
    return scalar(
        "SELECT count(*) FROM tasks t JOIN jobs s ON s.id = t.job_id"
            + " WHERE s.parent_id = ? AND t.status = 'RUNNING'",
        id);
  }

  private long jobRows() throws Exception {
    try (Connection c = stack.env.connect();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM jobs")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long scalar(String sql, String id) throws Exception {
    try (Connection c = stack.env.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, UUID.fromString(id));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
