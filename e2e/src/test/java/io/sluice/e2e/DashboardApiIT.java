package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.Env;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The dashboard's endpoints over HTTP, without a browser: the views an admin token reads, the token
 * every view needs (the page itself and {@code /metrics} stay open), and the requeue action's
 * semantics and refusals.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardApiIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final HttpClient http = HttpClient.newHttpClient();
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 1, 2);
  }

  @AfterAll
  void stop() {
    FixableJobType.BROKEN.set(true);
    stack.close();
  }

  @Test
  void anAdminTokenReadsTheNodesAndQueuesAndThePageIsOpen() {
    String id = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":3}}");
    assertThat(stack.awaitTerminal(id, WAIT).get("status").asText()).isEqualTo("SUCCEEDED");

    // This stack's nodes, by id: a coordinator another test stopped stays listed, ageing.
    String prefix = stack.env.redisPrefix();
    List<String> ours = List.of("w0-" + prefix, "coord-" + prefix);
    JsonNode workers =
        await()
            .atMost(WAIT)
            .until(
                () -> ok(get("/api/v1/workers", Stack.ADMIN_TOKEN)),
                w -> nodes(w, ours).size() == 2);
    for (JsonNode n : nodes(workers, ours)) {
      assertThat(n.get("status").asText()).isEqualTo("UP");
      assertThat(n.get("heartbeatAgeMs").asLong()).isLessThan(15_000);
    }
    assertThat(nodes(workers, ours).stream().map(n -> n.get("kind").asText()))
        .containsExactlyInAnyOrder("worker", "coordinator");

    JsonNode queues = ok(get("/api/v1/queues", Stack.ADMIN_TOKEN));
    assertThat(queues.get("redis").asText()).isEqualTo("UP");
    JsonNode queue = queues.get("items").get(0);
    assertThat(queue.get("name").asText()).isEqualTo("default");
    assertThat(queue.get("finishedLastMinute").asLong()).isGreaterThanOrEqualTo(3);
    assertThat(queue.get("pending").asLong()).isZero();

    HttpResponse<String> page = get("/", null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElse(""))
        .contains("default-src 'self'");
    assertThat(page.body()).contains("/dashboard/app.js");
    assertThat(get("/dashboard/app.js", null).statusCode()).isEqualTo(200);
    assertThat(get("/dashboard/secrets.txt", null).statusCode()).isEqualTo(404);
  }

  @Test
  void requeueNeedsATokenAndRefusesWhatIsNotDeadLettered() {
    FixableJobType.BROKEN.set(true);
    String failed = submit(fixable("fail", 3, 1, 0));
    JsonNode before = stack.awaitTerminal(failed, WAIT);
    String done = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":1}}");
    stack.awaitTerminal(done, WAIT);

    expect(requeue(failed, "1", null, null), 401, "missing bearer token");
    expect(requeue(failed, "1", "not-the-token", null), 401, "not valid");
    expect(requeue(done, "0", Stack.TOKEN, null), 409, "is SUCCEEDED");
    expect(requeue(failed, "0", Stack.TOKEN, null), 409, "only FAILED tasks");
    expect(requeue(failed, "9", Stack.TOKEN, null), 404, "has no task 9");
    expect(requeue(failed, "-1", Stack.TOKEN, null), 400, "seq");
    expect(requeue("not-a-uuid", "1", Stack.TOKEN, null), 400, "UUID");
    expect(requeue("00000000-0000-0000-0000-000000000000", "1", Stack.TOKEN, null), 404, "no job");
    HttpResponse<String> stale = requeue(failed, "1", Stack.TOKEN, "\"999\"");
    expect(stale, 409, "version");
    assertThat(Json.read(stale.body()).get("currentVersion").asLong())
        .isEqualTo(before.get("version").asLong());

    JsonNode after = stack.job(failed);
    assertThat(after.get("status").asText()).isEqualTo("FAILED");
    assertThat(after.get("version").asLong())
        .as("nothing changed")
        .isEqualTo(before.get("version").asLong());
  }

  @Test
  void concurrentRequeuesOfOneTaskRequeueItOnceAndTheJobSucceeds() throws Exception {
    FixableJobType.BROKEN.set(true);
    String id = submit(fixable("fail", 5, 3, 0));
    assertThat(stack.awaitTerminal(id, WAIT).get("status").asText()).isEqualTo("FAILED");
    FixableJobType.BROKEN.set(false);

    List<Integer> statuses = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Callable<Integer>> clicks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        clicks.add(() -> requeue(id, "3", Stack.TOKEN, null).statusCode());
      }
      for (Future<Integer> f : pool.invokeAll(clicks)) {
        statuses.add(f.get());
      }
    }

    assertThat(statuses).filteredOn(s -> s == 200).hasSize(1);
    assertThat(statuses).filteredOn(s -> s == 409).hasSize(7);
    JsonNode job = stack.awaitTerminal(id, WAIT);
    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(5);
    assertThat(job.get("result").get("failed").asInt()).isZero();
    assertThat(
            count(
                "SELECT count(*) FROM job_events WHERE job_id = ?::uuid AND kind = 'REQUEUE'", id))
        .isEqualTo(1);
  }

  @Test
  void aTaskRequeuedWhileItsContinueJobRunsIsCountedOnceAndTheJobSucceeds() {
    FixableJobType.BROKEN.set(true);
    String id = submit(fixable("continue", 10, 0, 400));
    await("task 0 fails while the job runs")
        .atMost(WAIT)
        .until(() -> task(id, 0).get("status").asText().equals("FAILED"));
    FixableJobType.BROKEN.set(false);

    HttpResponse<String> requeued = requeue(id, "0", Stack.TOKEN, null);

    assertThat(requeued.statusCode()).as(requeued.body()).isEqualTo(200);
    JsonNode body = Json.read(requeued.body());
    assertThat(body.get("jobStatus").asText()).isEqualTo("RUNNING");
    assertThat(body.get("dispatched").asBoolean()).isTrue();
    JsonNode job = stack.awaitTerminal(id, WAIT);
    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(10);
    assertThat(job.get("tasksFailed").asInt()).isZero();
    assertThat(job.get("result").get("succeeded").asInt()).isEqualTo(10);
    assertThat(task(id, 0).get("attempt").asInt()).isEqualTo(1);
  }

  @Test
  void theViewsNeedATokenButThePageAndMetricsDoNot() {
    Map<String, String> vars = stack.env.sluiceEnv();
    vars.put("SLUICE_API_TOKENS", "tenant-a:" + Stack.TOKEN);
    vars.put("SLUICE_ADMIN_TOKENS", "ops:" + Stack.ADMIN_TOKEN);
    vars.put("SLUICE_HTTP_PORT", "0");
    vars.put("SLUICE_NODE_ID", "coord-token-" + stack.env.redisPrefix());
    try (Coordinator guarded = Coordinator.start(CoordinatorConfig.fromEnv(new Env(vars)))) {
      String base = "http://127.0.0.1:" + guarded.port();
      for (String view :
          List.of("/api/v1/workers", "/api/v1/queues", "/api/v1/dead-letters", "/api/v1/jobs")) {
        expect(send(base + view, null), 401, "bearer token");
        expect(send(base + view, "not-a-token-at-all"), 401, "not valid");
        assertThat(send(base + view, Stack.TOKEN).statusCode()).as(view).isEqualTo(200);
        assertThat(send(base + view, Stack.ADMIN_TOKEN).statusCode()).as(view).isEqualTo(200);
      }
      assertThat(send(base + "/", null).statusCode()).isEqualTo(200);
      assertThat(send(base + "/metrics", null).statusCode()).isEqualTo(200);
    }
  }

  private static String fixable(String onTaskFailure, int tasks, int failSeq, int delayMs) {
    return "{\"type\":\"fixable\",\"maxAttempts\":2,\"onTaskFailure\":\""
        + onTaskFailure
        + "\",\"payload\":{\"tasks\":"
        + tasks
        + ",\"failSeq\":"
        + failSeq
        + ",\"taskDelayMs\":"
        + delayMs
        + "}}";
  }

  private String submit(String body) {
    var created = stack.submit(body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).get("id").asText();
  }

  private HttpResponse<String> requeue(String jobId, String seq, String token, String ifMatch) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(stack.api() + "/api/v1/jobs/" + jobId + "/tasks/" + seq + "/requeue"))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    return exchange(b.build());
  }

  private HttpResponse<String> get(String path, String token) {
    return send(stack.api() + path, token);
  }

  private HttpResponse<String> send(String url, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return exchange(b.build());
  }

  private HttpResponse<String> exchange(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.uri() + " failed", e);
    }
  }

  private static List<JsonNode> nodes(JsonNode workers, List<String> ids) {
    List<JsonNode> found = new ArrayList<>();
    workers
        .get("items")
        .forEach(
            n -> {
              if (ids.contains(n.get("id").asText())) {
                found.add(n);
              }
            });
    return found;
  }

  private static JsonNode ok(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return Json.read(response.body());
  }

  private static void expect(HttpResponse<String> response, int status, String says) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(Json.read(response.body()).get("error").asText()).contains(says);
  }

  private JsonNode task(String jobId, int seq) {
    for (JsonNode t : ok(get("/api/v1/jobs/" + jobId + "/tasks", Stack.ADMIN_TOKEN)).get("items")) {
      if (t.get("seq").asInt() == seq) {
        return t;
      }
    }
    throw new AssertionError("job " + jobId + " has no task " + seq);
  }

  private long count(String sql, String id) throws Exception {
    try (Connection c = stack.env.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
