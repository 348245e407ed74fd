package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.WebhookConfig;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Callbacks through the transactional outbox, against a real receiver on loopback (allowed by
 * {@code SLUICE_WEBHOOK_ALLOW=127.0.0.1/32}): signed, delivered once, retried while the receiver
 * fails, filtered by event, recorded attempt by attempt, refused for private targets and for a
 * tenant without a secret, and listed per tenant.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookIT {
  private static final String SECRET = "tenant-a-webhook-secret-0123";
  private static final String OTHER_TOKEN = "tenant-b-token-without-secret";

  private final List<Received> received = new CopyOnWriteArrayList<>();
  private TestEnvironment env;
  private HttpServer receiver;
  private Stack stack;
  private String hook;

  private record Received(Map<String, String> headers, String body) {
    JsonNode json() {
      return Json.read(body);
    }
  }

  @BeforeAll
  void start(TestEnvironment env) throws IOException {
    this.env = env;
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    receiver.createContext("/hook", this::receive);
    receiver.start();
    hook = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
    WebhookConfig webhooks =
        WebhookConfig.of("tenant-a:" + SECRET, "127.0.0.1/32", Duration.ofMillis(100));
    stack =
        new Stack(
            env,
            1,
            4,
            c ->
                c.withTokens(
                        ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-b:" + OTHER_TOKEN))
                    .withWebhooks(webhooks));
  }

  @AfterAll
  void stop() {
    stack.close();
    receiver.stop(0);
  }

  @Test
  void aFinishedJobsCallbackArrivesOnceSignedWithTheJobAndItsResult() throws Exception {
    String id = submit(wordcount("a b a\nc"), callback(hook, null)).get("id").asText();

    Received r = awaitDeliveries(id, 1).get(0);

    JsonNode body = r.json();
    assertThat(body.path("event").asText()).isEqualTo("job.succeeded");
    assertThat(body.at("/job/id").asText()).isEqualTo(id);
    assertThat(body.at("/job/status").asText()).isEqualTo("SUCCEEDED");
    assertThat(body.at("/job/result/totalWords").asInt()).isEqualTo(4);
    assertThat(r.headers().get("sluice-webhook-id")).isEqualTo(body.path("id").asText());
    String timestamp = r.headers().get("sluice-timestamp");
    assertThat(Long.parseLong(timestamp)).isCloseTo(Instant.now().getEpochSecond(), within(30L));
    assertThat(r.headers().get("sluice-signature"))
        .as("HMAC-SHA256 of timestamp.body under the tenant's secret")
        .isEqualTo("v1=" + hmac(SECRET, timestamp + "." + r.body()));
    // The receiver has the body before the sender has read the 204 and recorded it.
    awaitDelivered(id);
    JsonNode listed = webhooks(Stack.TOKEN, "?jobId=" + id).get("items").get(0);
    assertThat(listed.path("attempts").asInt()).isEqualTo(1);
    assertThat(listed.path("lastStatusCode").asInt()).isEqualTo(204);
    assertThat(webhooks(OTHER_TOKEN, "?jobId=" + id).get("items")).as("another tenant's").isEmpty();
  }

  @Test
  void aStagesOwnCallbackArrivesNamingTheStageAndItsPipeline() throws Exception {
    String pipeline =
        "{\"stages\":[{\"name\":\"count\",\"type\":\"wordcount\",\"payload\":{\"text\":\"x y\\nz\","
            + "\"linesPerTask\":1},\"callback\":"
            + callback(hook, "[\"succeeded\"]")
            + "},{\"name\":\"after\",\"type\":\"noop\",\"payload\":{\"tasks\":1},"
            + "\"dependsOn\":[\"count\"]}]}";
    String id = submit(pipeline, callback(hook, null)).get("id").asText();

    Received job = awaitDeliveries(id, 1).get(0);
    assertThat(job.json().path("event").asText()).isEqualTo("job.succeeded");
    assertThat(job.json().at("/job/pipelineId").isMissingNode()).isTrue();
    String stageId =
        scalarText(
            "SELECT id::text FROM jobs WHERE parent_id = '" + id + "' AND stage_name = 'count'");
    Received stage = awaitDeliveries(stageId, 1).get(0);
    JsonNode body = stage.json();
    assertThat(body.path("event").asText()).isEqualTo("stage.succeeded");
    assertThat(body.at("/job/stage").asText()).isEqualTo("count");
    assertThat(body.at("/job/pipelineId").asText()).isEqualTo(id);
    assertThat(body.at("/job/result/totalWords").asInt()).isEqualTo(3);
    String timestamp = stage.headers().get("sluice-timestamp");
    assertThat(stage.headers().get("sluice-signature"))
        .isEqualTo("v1=" + hmac(SECRET, timestamp + "." + stage.body()));
    assertThat(
            scalar(
                "SELECT count(*) FROM webhook_outbox o JOIN jobs j ON j.id = o.job_id"
                    + " WHERE j.parent_id = '"
                    + id
                    + "'"))
        .as("the stage without a callback sends nothing")
        .isEqualTo(1);

    long before = scalar("SELECT count(*) FROM jobs");
    HttpResponse<String> refused =
        stack.post(
            "/api/v1/jobs",
            "application/json",
            Stack.TOKEN,
            "{\"stages\":[{\"name\":\"a\",\"type\":\"noop\",\"callback\":"
                + callback("http://10.9.9.9/x", null)
                + "}]}");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(Json.read(refused.body()).path("field").asText())
        .isEqualTo("stages[0].callback.url");
    HttpResponse<String> malformed =
        stack.post(
            "/api/v1/jobs",
            "application/json",
            Stack.TOKEN,
            "{\"stages\":[{\"name\":\"a\",\"type\":\"noop\",\"callback\":{\"url\":\""
                + hook
                + "\",\"events\":[\"nope\"]}}]}");
    assertThat(malformed.statusCode()).as(malformed.body()).isEqualTo(400);
    assertThat(Json.read(malformed.body()).path("field").asText())
        .isEqualTo("stages[0].callback.events");
    assertThat(scalar("SELECT count(*) FROM jobs")).isEqualTo(before);
  }

  @Test
  void aReceiverThatFailsIsRetriedWithBackoffUntilItAnswersAndEveryAttemptIsRecorded()
      throws Exception {
    // The receiver answers 503 to the first 3 attempts of a delivery to ?flaky=3 (it reads the
    // attempt header), so however fast the job finishes, the first attempt is refused.
    String id = submit(wordcount("x y"), callback(hook + "?flaky=3", null)).get("id").asText();

    List<Received> all = awaitDeliveries(id, 4);

    assertThat(all)
        .extracting(r -> r.headers().get("sluice-webhook-attempt"))
        .containsExactly("1", "2", "3", "4");
    assertThat(all)
        .extracting(r -> r.headers().get("sluice-webhook-id"))
        .containsOnly(all.get(0).headers().get("sluice-webhook-id"));
    awaitDelivered(id);
    assertThat(codes(id)).containsExactly(503, 503, 503, 204);
  }

  @Test
  void onlyTheEventsACallbackNamesAreSent() throws Exception {
    String ok = submit(wordcount("p q"), callback(hook, "[\"failed\"]")).get("id").asText();
    String cancelled =
        submit(
                "{\"type\":\"noop\",\"payload\":{\"tasks\":2},\"runAt\":\""
                    + Instant.now().plusSeconds(3600)
                    + "\"",
                callback(hook, "[\"cancelled\",\"failed\"]"))
            .get("id")
            .asText();
    stack.awaitTerminal(ok, Duration.ofSeconds(30));
    assertThat(
            stack.post("/api/v1/jobs/" + cancelled + "/cancel", null, Stack.TOKEN, "").statusCode())
        .isEqualTo(200);

    assertThat(awaitDeliveries(cancelled, 1).get(0).json().path("event").asText())
        .isEqualTo("job.cancelled");
    assertThat(webhooks(Stack.TOKEN, "?jobId=" + ok).get("items"))
        .as("succeeded is not asked for")
        .isEmpty();
  }

  @Test
  void aCallbackToAPrivateAddressOrWithoutASecretIsRefusedAndNothingIsWritten() throws Exception {
    long before = scalar("SELECT count(*) FROM jobs");
    String job = wordcount("a");
    expect400(Stack.TOKEN, job, callback("http://10.1.2.3/hook", null), "callback.url", "private");
    expect400(
        Stack.TOKEN,
        job,
        callback("http://169.254.169.254/latest", null),
        "callback.url",
        "link-local");
    expect400(Stack.TOKEN, job, callback("http://[::1]:8080/x", null), "callback.url", "loopback");
    expect400(
        Stack.TOKEN, job, callback("ftp://example.com/x", null), "callback.url", "http or https");
    expect400(
        Stack.TOKEN,
        job,
        callback("https://u:p@example.com/x", null),
        "callback.url",
        "credentials");
    expect400(Stack.TOKEN, job, callback(hook, "[\"done\"]"), "callback.events", "distinct values");
    expect400(OTHER_TOKEN, job, callback(hook, null), "callback", "no webhook signing secret");
    HttpResponse<String> batch =
        stack.post(
            "/api/v1/jobs/batch",
            "application/json",
            Stack.TOKEN,
            "{\"jobs\":["
                + withCallback(job, callback(hook, null))
                + ","
                + withCallback(job, callback("http://192.168.0.9/", null))
                + "]}");
    assertThat(batch.statusCode()).isEqualTo(400);
    assertThat(Json.read(batch.body()).at("/errors/0/index").asInt()).isEqualTo(1);
    assertThat(scalar("SELECT count(*) FROM jobs")).isEqualTo(before);

    String schedule =
        "{\"name\":\"hooked\",\"every\":\"1h\",\"job\":"
            + withCallback(job, callback("http://10.1.2.3/", null))
            + "}";
    HttpResponse<String> refused =
        stack.post("/api/v1/schedules", "application/json", Stack.TOKEN, schedule);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
    assertThat(Json.read(refused.body()).path("field").asText()).isEqualTo("job.callback.url");
    HttpResponse<String> noSecret =
        stack.post(
            "/api/v1/schedules",
            "application/json",
            OTHER_TOKEN,
            schedule.replace("10.1.2.3", "127.0.0.1"));
    assertThat(Json.read(noSecret.body()).path("field").asText()).isEqualTo("job.callback");
    HttpResponse<String> plain =
        stack.post(
            "/api/v1/schedules",
            "application/json",
            Stack.TOKEN,
            "{\"name\":\"hooked\",\"every\":\"1h\",\"job\":" + job + "}");
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(201);
    HttpResponse<String> patched =
        new ScheduleCalls(stack::api)
            .patch(
                Stack.TOKEN,
                "hooked",
                "\"" + Json.read(plain.body()).path("version").asLong() + "\"",
                "{\"job\":" + withCallback(job, callback("http://192.168.1.1/", null)) + "}");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(400);
    assertThat(Json.read(patched.body()).path("field").asText()).isEqualTo("job.callback.url");
    assertThat(scalar("SELECT count(*) FROM schedules WHERE name = 'hooked' AND version = 1"))
        .isEqualTo(1);
    assertThat(
            scalar(
                "SELECT count(*) FROM job_callbacks cb JOIN jobs j ON j.id = cb.job_id WHERE j.tenant = 'tenant-b'"))
        .isZero();
  }

  private void expect400(String token, String job, String callback, String field, String says) {
    HttpResponse<String> r =
        stack.post("/api/v1/jobs", "application/json", token, withCallback(job, callback));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Json.read(r.body()).path("field").asText()).isEqualTo(field);
    assertThat(Json.read(r.body()).path("error").asText()).contains(says);
  }

  private JsonNode submit(String job, String callback) {
    HttpResponse<String> r =
        stack.post("/api/v1/jobs", "application/json", Stack.TOKEN, withCallback(job, callback));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.read(r.body());
  }

  private static String withCallback(String job, String callback) {
    String open = job.endsWith("}") ? job.substring(0, job.length() - 1) : job;
    return open + ",\"callback\":" + callback + "}";
  }

  private static String wordcount(String text) {
    return "{\"type\":\"wordcount\",\"payload\":{\"text\":"
        + Json.write(Json.MAPPER.valueToTree(text))
        + ",\"linesPerTask\":1}}";
  }

  private static String callback(String url, String events) {
    return "{\"url\":\"" + url + "\"" + (events == null ? "" : ",\"events\":" + events) + "}";
  }

  private List<Received> awaitDeliveries(String jobId, int n) {
    await("" + n + " deliveries for job " + jobId)
        .atMost(Duration.ofSeconds(30))
        .until(() -> deliveriesOf(jobId).size() >= n);
    return deliveriesOf(jobId);
  }

  private List<Received> deliveriesOf(String jobId) {
    List<Received> of = new ArrayList<>();
    for (Received r : received) {
      if (r.json().at("/job/id").asText().equals(jobId)) {
        of.add(r);
      }
    }
    return of;
  }

  /** Waits for the job's delivery to be recorded DELIVERED, which the relay does after the 2xx. */
  private void awaitDelivered(String jobId) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                webhooks(Stack.TOKEN, "?jobId=" + jobId)
                    .at("/items/0/status")
                    .asText()
                    .equals("DELIVERED"));
  }

  private JsonNode webhooks(String token, String query) {
    return Json.read(stack.get("/api/v1/webhooks" + query, token).body());
  }

  private List<Integer> codes(String jobId) throws Exception {
    List<Integer> codes = new ArrayList<>();
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT a.status_code FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id"
                        + " WHERE o.job_id = '"
                        + jobId
                        + "' ORDER BY a.attempt")) {
      while (rs.next()) {
        codes.add(rs.getInt(1));
      }
    }
    return codes;
  }

  private String scalarText(String sql) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      assertThat(rs.next()).as(sql).isTrue();
      return rs.getString(1);
    }
  }

  private long scalar(String sql) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void receive(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> headers = new ConcurrentHashMap<>();
    exchange
        .getRequestHeaders()
        .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v.get(0)));
    received.add(new Received(headers, body));
    String query = exchange.getRequestURI().getQuery();
    int failFirst =
        query != null && query.startsWith("flaky=") ? Integer.parseInt(query.substring(6)) : 0;
    int attempt = Integer.parseInt(headers.getOrDefault("sluice-webhook-attempt", "1"));
    int status = attempt <= failFirst ? 503 : 204;
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  private static String hmac(String secret, String text) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
  }
}
