package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.json.Json;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Traces end to end (issue 14): a coordinator JVM and a worker JVM export OTLP (http/protobuf) to a
 * receiver inside this test, which decodes each {@code ExportTraceServiceRequest}. A job submitted
 * with a W3C {@code traceparent} gets one trace: its {@code sluice.job} span is a child of the
 * caller's span, split and dispatch are children of the job's span on the coordinator, each task's
 * {@code sluice.task} span comes from the worker's service and is a child of the job's span (found
 * in PostgreSQL by the claim), and the {@code sluice.collect} span too. A pipeline has one {@code
 * sluice.stage} span per stage under the job, and each stage's tasks and collector under their
 * stage.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracingIT {
  private static final String COORDINATOR = "sluice-test-coordinator";
  private static final String WORKER = "sluice-test-worker";

  /** A span as the receiver decoded it, with the service that sent it. */
  record Got(
      String service,
      String traceId,
      String spanId,
      String parentSpanId,
      String name,
      Map<String, String> attributes) {}

  private final ConcurrentLinkedQueue<Got> spans = new ConcurrentLinkedQueue<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private HttpServer receiver;
  private FaultHarness harness;

  @BeforeAll
  void start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/v1/traces",
        exchange -> {
          try (InputStream in = exchange.getRequestBody()) {
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(in);
            for (ResourceSpans rs : request.getResourceSpansList()) {
              String service = attribute(rs.getResource(), "service.name");
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                for (var s : ss.getSpansList()) {
                  spans.add(
                      new Got(
                          service,
                          HexFormat.of().formatHex(s.getTraceId().toByteArray()),
                          HexFormat.of().formatHex(s.getSpanId().toByteArray()),
                          HexFormat.of().formatHex(s.getParentSpanId().toByteArray()),
                          s.getName(),
                          attributes(s.getAttributesList())));
                }
              }
            }
            byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(answer);
            }
          } catch (RuntimeException e) {
            exchange.sendResponseHeaders(400, -1);
          } finally {
            exchange.close();
          }
        });
    receiver.start();
    harness = new FaultHarness(Duration.ofSeconds(1), false);
    String otlp = "http://127.0.0.1:" + receiver.getAddress().getPort();
    int port = FaultHarness.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("SLUICE_REDIS_URL", harness.redis.url());
    env.put("SLUICE_DATABASE_URL", harness.postgres.jdbcUrl(FaultHarness.DATABASE));
    env.put("SLUICE_DATABASE_USER", EmbeddedPostgres.USER);
    env.put("SLUICE_API_TOKENS", FaultHarness.TOKEN);
    env.put("SLUICE_HTTP_PORT", String.valueOf(port));
    env.put("SLUICE_NODE_ID", "traced-coordinator");
    env.put("SLUICE_SWEEP_INTERVAL", "250ms");
    env.putAll(otel(otlp, COORDINATOR));
    harness.coordinators.add(
        ChildApi.start(
            "io.sluice.coordinator.CoordinatorMain", "traced-coordinator", env, harness.dir));
    harness.useApi(port);
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(() -> harness.readyStatus() == 200);
    Map<String, String> worker = harness.workerEnv("traced-worker");
    worker.putAll(otel(otlp, WORKER));
    harness.startWorker(worker);
  }

  @AfterAll
  void stop() {
    if (harness != null) {
      harness.close();
    }
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  private static Map<String, String> otel(String endpoint, String service) {
    return Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        endpoint,
        "OTEL_SERVICE_NAME",
        service,
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY",
        "200");
  }

  @Test
  void aJobsSpansFormOneTraceUnderTheCallersSpan() {
    String traceId = hex(16);
    String callerSpan = hex(8);
    String body = FaultHarness.wordcountBody("one two\nthree four\nfive six\nseven\n", 1, 0);
    String id = submit("/api/v1/jobs", body, "00-" + traceId + "-" + callerSpan + "-01");
    assertThat(harness.awaitTerminal(id, Duration.ofSeconds(60)).get("status").asText())
        .isEqualTo("SUCCEEDED");

    Got job =
        awaitSpan(
            s -> s.name().equals("sluice.job") && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(job.service()).isEqualTo(COORDINATOR);
    assertThat(job.traceId()).as("the job joins the caller's trace").isEqualTo(traceId);
    assertThat(job.parentSpanId())
        .as("the job's span is a child of the caller's")
        .isEqualTo(callerSpan);
    assertThat(job.attributes()).containsEntry("sluice.job.type", "wordcount");

    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                of(id, "sluice.task").stream()
                        .map(g -> g.attributes().get("sluice.task.seq"))
                        .distinct()
                        .count()
                    == 4);
    for (Got task : of(id, "sluice.task")) {
      assertThat(task.service()).as("a task runs on the worker JVM").isEqualTo(WORKER);
      assertThat(task.traceId()).isEqualTo(traceId);
      assertThat(task.parentSpanId()).as("task %s", task.attributes()).isEqualTo(job.spanId());
      assertThat(task.attributes()).containsKeys("sluice.task.seq", "sluice.task.attempt");
      assertThat(task.attributes()).containsEntry("sluice.task.attempt", "1");
      assertThat(task.attributes()).containsEntry("sluice.outcome", "SUCCEEDED");
    }
    Got collect =
        awaitSpan(
            s ->
                s.name().equals("sluice.collect")
                    && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(collect.service()).isEqualTo(COORDINATOR);
    assertThat(collect.traceId()).isEqualTo(traceId);
    assertThat(collect.parentSpanId()).isEqualTo(job.spanId());
    for (String name : List.of("sluice.split", "sluice.dispatch")) {
      Got step =
          awaitSpan(s -> s.name().equals(name) && id.equals(s.attributes().get("sluice.job.id")));
      assertThat(step.traceId()).as(name).isEqualTo(traceId);
      assertThat(step.parentSpanId()).as(name).isEqualTo(job.spanId());
    }
  }

  @Test
  void aPipelineHasASpanPerStageUnderTheJob() {
    String traceId = hex(16);
    String callerSpan = hex(8);
    ObjectNode body = Json.object();
    var stages = body.putArray("stages");
    stages
        .addObject()
        .put("name", "left")
        .put("type", "wordcount")
        .putObject("payload")
        .put("text", "a b\nc d\n")
        .put("linesPerTask", 1)
        .put("counts", true);
    ObjectNode total = stages.addObject().put("name", "total").put("type", "merge");
    total.putArray("dependsOn").add("left");
    String id =
        submit("/api/v1/jobs", Json.write(body), "00-" + traceId + "-" + callerSpan + "-01");
    JsonNode done = harness.awaitTerminal(id, Duration.ofSeconds(60));
    assertThat(done.get("status").asText()).isEqualTo("SUCCEEDED");
    Got job =
        awaitSpan(
            s -> s.name().equals("sluice.job") && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(job.parentSpanId()).isEqualTo(callerSpan);
    for (String stageName : List.of("left", "total")) {
      Got stage =
          awaitSpan(
              s ->
                  s.name().equals("sluice.stage")
                      && id.equals(s.attributes().get("sluice.pipeline.id"))
                      && stageName.equals(s.attributes().get("sluice.stage.name")));
      assertThat(stage.traceId()).isEqualTo(traceId);
      assertThat(stage.parentSpanId())
          .as("stage %s under the job", stageName)
          .isEqualTo(job.spanId());
      String stageId = stage.attributes().get("sluice.job.id");
      Got collect =
          awaitSpan(
              s ->
                  s.name().equals("sluice.collect")
                      && stageId.equals(s.attributes().get("sluice.job.id")));
      assertThat(collect.parentSpanId())
          .as("stage %s's collector", stageName)
          .isEqualTo(stage.spanId());
      Got task =
          awaitSpan(
              s ->
                  s.name().equals("sluice.task")
                      && stageId.equals(s.attributes().get("sluice.job.id")));
      assertThat(task.service()).isEqualTo(WORKER);
      assertThat(task.traceId()).isEqualTo(traceId);
      assertThat(task.parentSpanId()).as("stage %s's task", stageName).isEqualTo(stage.spanId());
    }
  }

  @Test
  void aBatchsJobsAreEachAChildOfTheCallersSpan() {
    String traceId = hex(16);
    String callerSpan = hex(8);
    ObjectNode body = Json.object();
    var jobs = body.putArray("jobs");
    for (int i = 0; i < 2; i++) {
      jobs.add(Json.read(FaultHarness.wordcountBody("x y\nz\n", 1, 0)));
    }
    JsonNode answer =
        Json.read(
            submitRaw(
                "/api/v1/jobs/batch",
                Json.write(body),
                "00-" + traceId + "-" + callerSpan + "-01"));
    for (JsonNode item : answer.get("items")) {
      String id = item.get("id").asText();
      assertThat(harness.awaitTerminal(id, Duration.ofSeconds(60)).get("status").asText())
          .isEqualTo("SUCCEEDED");
      Got job =
          awaitSpan(
              s -> s.name().equals("sluice.job") && id.equals(s.attributes().get("sluice.job.id")));
      assertThat(job.traceId()).isEqualTo(traceId);
      assertThat(job.parentSpanId()).isEqualTo(callerSpan);
      Got task =
          awaitSpan(
              s ->
                  s.name().equals("sluice.task") && id.equals(s.attributes().get("sluice.job.id")));
      assertThat(task.parentSpanId()).isEqualTo(job.spanId());
      Got collect =
          awaitSpan(
              s ->
                  s.name().equals("sluice.collect")
                      && id.equals(s.attributes().get("sluice.job.id")));
      assertThat(collect.parentSpanId()).isEqualTo(job.spanId());
    }
  }

  @Test
  void aRetriedTaskStaysInTheTraceAndItsHandlerSeesItsOwnSpan() throws Exception {
    String traceId = hex(16);
    String callerSpan = hex(8);
    String id =
        submit(
            "/api/v1/jobs",
            "{\"type\": \"traced\", \"maxAttempts\": 3, \"payload\": {\"tasks\": 2}}",
            "00-" + traceId + "-" + callerSpan + "-01");
    assertThat(harness.awaitTerminal(id, Duration.ofSeconds(60)).get("status").asText())
        .isEqualTo("SUCCEEDED");
    Got job =
        awaitSpan(
            s -> s.name().equals("sluice.job") && id.equals(s.attributes().get("sluice.job.id")));
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> of(id, "sluice.task").size() == 4);
    for (Got task : of(id, "sluice.task")) {
      assertThat(task.traceId()).isEqualTo(traceId);
      assertThat(task.parentSpanId()).as("attempt %s", task.attributes()).isEqualTo(job.spanId());
      assertThat(task.attributes().get("sluice.outcome"))
          .isEqualTo(
              task.attributes().get("sluice.task.attempt").equals("1")
                  ? "RETRY_WAIT"
                  : "SUCCEEDED");
    }
    HttpResponse<String> tasks =
        http.send(
            HttpRequest.newBuilder(URI.create(harness.api() + "/api/v1/jobs/" + id + "/tasks"))
                .header("Authorization", "Bearer " + FaultHarness.TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    List<String> secondAttempts =
        of(id, "sluice.task").stream()
            .filter(t -> t.attributes().get("sluice.task.attempt").equals("2"))
            .map(t -> "00-" + traceId + "-" + t.spanId() + "-01")
            .toList();
    List<String> seen = new ArrayList<>();
    Json.read(tasks.body())
        .get("items")
        .forEach(t -> seen.add(t.path("output").path("traceParent").asText()));
    assertThat(seen)
        .as("TaskContext.traceParent() is the traceparent of the task's own span")
        .containsExactlyInAnyOrderElementsOf(secondAttempts);
  }

  @Test
  void aScheduleFireStartsATraceOfItsOwn() throws Exception {
    String name = "traced-" + hex(4);
    String job = FaultHarness.wordcountBody("p q\nr\n", 1, 0);
    submitRaw(
        "/api/v1/schedules",
        "{\"name\": \"" + name + "\", \"every\": \"1s\", \"job\": " + job + "}",
        "00-" + hex(16) + "-" + hex(8) + "-01");
    String[] fired = new String[1];
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              JsonNode schedule =
                  Json.read(
                      http.send(
                              HttpRequest.newBuilder(
                                      URI.create(harness.api() + "/api/v1/schedules/" + name))
                                  .header("Authorization", "Bearer " + FaultHarness.TOKEN)
                                  .build(),
                              HttpResponse.BodyHandlers.ofString())
                          .body());
              fired[0] = schedule.path("lastJobId").asText(null);
              return fired[0] != null && !fired[0].isEmpty() && !fired[0].equals("null");
            });
    http.send(
        HttpRequest.newBuilder(URI.create(harness.api() + "/api/v1/schedules/" + name))
            .header("Authorization", "Bearer " + FaultHarness.TOKEN)
            .DELETE()
            .build(),
        HttpResponse.BodyHandlers.discarding());
    String id = fired[0];
    harness.awaitTerminal(id, Duration.ofSeconds(60));
    Got root =
        awaitSpan(
            s -> s.name().equals("sluice.job") && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(root.parentSpanId()).as("a fire is the root of its trace").isEmpty();
    Got task =
        awaitSpan(
            s -> s.name().equals("sluice.task") && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(task.traceId()).isEqualTo(root.traceId());
    assertThat(task.parentSpanId()).isEqualTo(root.spanId());
    Got collect =
        awaitSpan(
            s ->
                s.name().equals("sluice.collect")
                    && id.equals(s.attributes().get("sluice.job.id")));
    assertThat(collect.parentSpanId()).isEqualTo(root.spanId());
  }

  private List<Got> of(String jobId, String name) {
    return spans.stream()
        .filter(s -> s.name().equals(name) && jobId.equals(s.attributes().get("sluice.job.id")))
        .toList();
  }

  private Got awaitSpan(Predicate<Got> which) {
    Got[] found = new Got[1];
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .alias("a span among " + spans.stream().map(Got::name).toList())
        .until(() -> (found[0] = spans.stream().filter(which).findFirst().orElse(null)) != null);
    return found[0];
  }

  private String submit(String path, String body, String traceParent) {
    return Json.read(submitRaw(path, body, traceParent)).get("id").asText();
  }

  private String submitRaw(String path, String body, String traceParent) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(harness.api() + path))
                  .header("Content-Type", "application/json")
                  .header("Authorization", "Bearer " + FaultHarness.TOKEN)
                  .header("traceparent", traceParent)
                  .timeout(Duration.ofSeconds(10))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      return r.body();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    b[0] |= 1; // never all zero, which W3C calls invalid
    return HexFormat.of().formatHex(b);
  }

  private static String attribute(Resource resource, String key) {
    return attributes(resource.getAttributesList()).get(key);
  }

  private static Map<String, String> attributes(List<KeyValue> list) {
    Map<String, String> out = new HashMap<>();
    for (KeyValue kv : list) {
      AnyValue v = kv.getValue();
      out.put(
          kv.getKey(),
          switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> Long.toString(v.getIntValue());
            case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
            case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
            default -> v.toString();
          });
    }
    return out;
  }
}
