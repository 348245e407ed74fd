package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.generated.ApiClient;
import io.sluice.generated.ApiException;
import io.sluice.generated.api.JobsApi;
import io.sluice.generated.model.Job;
import io.sluice.generated.model.PatchJob;
import io.sluice.generated.model.SubmitJob;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The OpenAPI document against the running coordinator: every route it serves is documented and
 * every documented one is served, and every answer of every call — successes and each kind of
 * refusal — matches the document's status, content type, headers and body schema.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenApiContractIT {
  private static final String QUOTA_TOKEN = "quota-tenant-token-42";
  private static final String LATER = Instant.now().plus(Duration.ofDays(1)).toString();

  private final HttpClient http = HttpClient.newHttpClient();
  private Stack stack;
  private OpenApiContract contract;

  @BeforeAll
  void start(TestEnvironment env) {
    ApiTokens tokens = ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-q:" + QUOTA_TOKEN);
    ApiLimits limits = new ApiLimits(100_000, 100_000, 0, Map.of("tenant-q", 1));
    stack = new Stack(env, 1, 2, c -> c.withTokens(tokens).withLimits(limits));
    HttpResponse<String> doc = call("GET", "/api/v1/openapi.json", null, null, null);
    contract = new OpenApiContract(doc.body());
    contract.check("GET", "/api/v1/openapi.json", doc);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  @Order(1)
  void theServedDocumentIsTheRepositoryFile() throws Exception {
    String file =
        Files.readString(ProjectFiles.find("coordinator/src/main/resources/openapi/openapi.json"));
    assertThat(call("GET", "/api/v1/openapi.json", null, null, null).body()).isEqualTo(file);
    assertThat(contract.document().path("openapi").asText()).isEqualTo("3.1.0");
  }

  @Test
  @Order(1)
  void everyRouteServedIsDocumentedAndEveryDocumentedOneIsServed() {
    // The dashboard's page and static files are not API: the document leaves them out.
    Set<String> served =
        stack.coordinator.routes().stream()
            .filter(r -> !r.equals("GET /") && !r.startsWith("GET /dashboard/"))
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(served).isEqualTo(contract.operations());
  }

  @Test
  @Order(2)
  void aJobsWholeLifeAnswersAsDocumented() {
    String body =
        "{\"type\":\"probe\",\"payload\":{\"tasks\":2},\"idempotencyKey\":\"life-1\","
            + "\"runAt\":\""
            + LATER
            + "\",\"labels\":{\"team\":\"a\"}}";
    JsonNode job = submit(body, 201);
    String id = job.get("id").asText();
    submit(body, 200);
    ok("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/" + id, null, 200);
    ok("GET", "/api/v1/jobs", "/api/v1/jobs?status=QUEUED&limit=1", null, 200);
    ok("GET", "/api/v1/jobs/{id}/tasks", "/api/v1/jobs/" + id + "/tasks?limit=1", null, 200);

    String patch = "{\"priority\":5,\"labels\":{\"team\":\"b\"}}";
    contract.checkRequest("PATCH", "/api/v1/jobs/{id}", patch);
    long version = job.get("version").asLong();
    JsonNode patched =
        ok(
            "PATCH",
            "/api/v1/jobs/{id}",
            "/api/v1/jobs/" + id,
            patch,
            200,
            "If-Match",
            "\"" + version + "\"");
    ok(
        "PATCH",
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/" + id,
        patch,
        409,
        "If-Match",
        "\"" + version + "\"");
    ok("PATCH", "/api/v1/jobs/{id}", "/api/v1/jobs/" + id, patch, 428);
    ok(
        "PATCH",
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/" + id,
        "{\"queue\":\"x\"}",
        400,
        "If-Match",
        "\"" + patched.get("version").asLong() + "\"");

    ok("POST", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/" + id + "/cancel", null, 200);
    ok("POST", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/" + id + "/cancel", null, 200);
    ok(
        "POST",
        "/api/v1/jobs/{id}/cancel",
        "/api/v1/jobs/" + id + "/cancel",
        null,
        409,
        "If-Match",
        "\"1\"");
    ok("GET", "/api/v1/jobs/{id}/events", "/api/v1/jobs/" + id + "/events", null, 200);

    String words =
        "{\"type\":\"wordcount\",\"payload\":{\"text\":\"a b a\\nc a\",\"linesPerTask\":1}}";
    String done = submit(words, 201).get("id").asText();
    assertThat(stack.awaitTerminal(done, Duration.ofSeconds(30)).get("status").asText())
        .isEqualTo("SUCCEEDED");
    assertThat(
            ok("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/" + done, null, 200)
                .at("/result/totalWords")
                .asInt())
        .isEqualTo(5);
    ok("GET", "/api/v1/jobs/{id}/events", "/api/v1/jobs/" + done + "/events", null, 200);
    ok("POST", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/" + done + "/cancel", null, 409);
    ok(
        "POST",
        "/api/v1/jobs/{id}/tasks/{seq}/requeue",
        "/api/v1/jobs/" + done + "/tasks/0/requeue",
        null,
        409);
  }

  @Test
  @Order(2)
  void aPipelineABatchAndADeadLetterAnswerAsDocumented() {
    String pipeline =
        "{\"stages\":[{\"name\":\"left\",\"type\":\"wordcount\",\"payload\":{\"text\":\"x y\",\"linesPerTask\":1,\"counts\":true}},"
            + "{\"name\":\"total\",\"type\":\"merge\",\"dependsOn\":[\"left\"]}]}";
    String pid = submit(pipeline, 201).get("id").asText();
    String batch = "{\"jobs\":[" + pipeline + ",{\"type\":\"noop\",\"payload\":{\"tasks\":1}}]}";
    contract.checkRequest("POST", "/api/v1/jobs/batch", batch);
    ok("POST", "/api/v1/jobs/batch", "/api/v1/jobs/batch", batch, 201);
    assertThat(stack.awaitTerminal(pid, Duration.ofSeconds(30)).get("status").asText())
        .isEqualTo("SUCCEEDED");
    ok("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/" + pid, null, 200);
    ok("GET", "/api/v1/jobs/{id}/tasks", "/api/v1/jobs/" + pid + "/tasks?stage=total", null, 200);

    String failing = "{\"type\":\"noop\",\"payload\":{\"tasks\":2,\"fail\":[1]},\"maxAttempts\":1}";
    String fid = submit(failing, 201).get("id").asText();
    assertThat(stack.awaitTerminal(fid, Duration.ofSeconds(30)).get("status").asText())
        .isEqualTo("FAILED");
    JsonNode dead = ok("GET", "/api/v1/dead-letters", "/api/v1/dead-letters", null, 200);
    assertThat(dead.get("items").findValuesAsText("jobId")).contains(fid);
    ok(
        "POST",
        "/api/v1/jobs/{id}/tasks/{seq}/requeue",
        "/api/v1/jobs/" + fid + "/tasks/1/requeue",
        null,
        200);

    ok("GET", "/api/v1/workers", "/api/v1/workers", null, 200);
    ok("GET", "/api/v1/queues", "/api/v1/queues", null, 200);
    ok("GET", "/api/v1/webhooks", "/api/v1/webhooks?status=FAILED", null, 200);
    String pause = "/api/v1/queues/{queue}/pause";
    String resume = "/api/v1/queues/{queue}/resume";
    contract.check(
        "POST", pause, call("POST", "/api/v1/queues/held/pause", Stack.ADMIN_TOKEN, null, null));
    contract.check(
        "GET", "/api/v1/queues", call("GET", "/api/v1/queues", Stack.ADMIN_TOKEN, null, null));
    contract.check("GET", "/health/ready", call("GET", "/health/ready", null, null, null));
    contract.check(
        "POST", resume, call("POST", "/api/v1/queues/held/resume", Stack.ADMIN_TOKEN, null, null));
    ok("POST", pause, "/api/v1/queues/held/pause", null, 403);
    contract.check(
        "POST",
        resume,
        call("POST", "/api/v1/queues/bad%20name/resume", Stack.ADMIN_TOKEN, null, null));
    ok("GET", "/health/live", "/health/live", null, 200);
    ok("GET", "/health/ready", "/health/ready", null, 200);
    ok("GET", "/metrics", "/metrics", null, 200);
  }

  @Test
  @Order(2)
  void everyKindOfRefusalAnswersAsDocumented() {
    String jobs = "/api/v1/jobs";
    contract.check("POST", jobs, call("POST", jobs, null, "application/json", "{}"));
    contract.check("POST", jobs, call("POST", jobs, "not-a-token", "application/json", "{}"));
    submit("{\"type\":\"noop\",\"payload\":{\"tasks\":0}}", 400);
    submit("{\"type\":\"noop\",\"stages\":[],\"payload\":{}}", 400);
    contract.check("POST", jobs, call("POST", jobs, Stack.TOKEN, "text/plain", "{}"));
    String big = "{\"type\":\"noop\",\"payload\":{\"pad\":\"" + "x".repeat(1_100_000) + "\"}}";
    contract.check("POST", jobs, call("POST", jobs, Stack.TOKEN, "application/json", big));
    String keyed =
        "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"idempotencyKey\":\"clash\",\"runAt\":\""
            + LATER
            + "\"}";
    submit(keyed, 201);
    submit(keyed.replace("\"tasks\":1", "\"tasks\":2"), 409);
    String held = "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"runAt\":\"" + LATER + "\"}";
    contract.check("POST", jobs, call("POST", jobs, QUOTA_TOKEN, "application/json", held));
    HttpResponse<String> over =
        contract.check("POST", jobs, call("POST", jobs, QUOTA_TOKEN, "application/json", held));
    assertThat(over.statusCode()).isEqualTo(429);

    String batch = "/api/v1/jobs/batch";
    HttpResponse<String> bad =
        contract.check(
            "POST",
            batch,
            call(
                "POST",
                batch,
                Stack.TOKEN,
                "application/json",
                "{\"jobs\":[{\"type\":\"noop\",\"payload\":{\"tasks\":1}},{\"type\":\"nope\"}]}"));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(Json.read(bad.body()).at("/errors/0/index").asInt()).isEqualTo(1);
    contract.check(
        "POST",
        batch,
        call(
            "POST",
            batch,
            Stack.TOKEN,
            "application/json",
            "{\"jobs\":[" + keyed.replace("\"tasks\":1", "\"tasks\":3") + "]}"));

    ok("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/00000000-0000-0000-0000-000000000000", null, 404);
    ok("GET", "/api/v1/jobs/{id}", "/api/v1/jobs/not-a-uuid", null, 400);
    ok("GET", "/api/v1/jobs", "/api/v1/jobs?limit=0", null, 400);
    ok(
        "GET",
        "/api/v1/jobs/{id}/tasks",
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000/tasks",
        null,
        404);
    ok(
        "GET",
        "/api/v1/jobs/{id}/events",
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000/events",
        null,
        404);
    ok(
        "POST",
        "/api/v1/jobs/{id}/cancel",
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000/cancel",
        null,
        404);
    ok(
        "POST",
        "/api/v1/jobs/{id}/tasks/{seq}/requeue",
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000/tasks/0/requeue",
        null,
        404);
    ok("GET", "/api/v1/workers", "/api/v1/workers?limit=x", null, 400);
    ok("GET", "/api/v1/webhooks", "/api/v1/webhooks?status=LOST", null, 400);
    submit(
        "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"callback\":{\"url\":\"https://hooks.example/x\"}}",
        400);
    contract.check("GET", "/api/v1/queues", call("GET", "/api/v1/queues", null, null, null));
  }

  @Test
  @Order(2)
  void aClientGeneratedFromTheDocumentSubmitsReadsAndCancelsJobs() throws Exception {
    ApiClient client = new ApiClient();
    client.updateBaseUri(stack.api());
    client.setRequestInterceptor(b -> b.header("Authorization", "Bearer " + Stack.TOKEN));
    JobsApi jobs = new JobsApi(client);

    Job words =
        jobs.submitJob(
            new SubmitJob()
                .type("wordcount")
                .payload(Map.of("text", "one two\ntwo three three", "linesPerTask", 1)),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(words.getStatus()).isEqualTo(Job.StatusEnum.QUEUED);
    stack.awaitTerminal(words.getId().toString(), Duration.ofSeconds(30));
    Job done = jobs.getJob(words.getId());
    assertThat(done.getStatus()).isEqualTo(Job.StatusEnum.SUCCEEDED);
    assertThat(Json.MAPPER.valueToTree(done.getResult()).path("totalWords").asInt()).isEqualTo(5);

    Job later =
        jobs.submitJob(
            new SubmitJob()
                .type("noop")
                .payload(Map.of("tasks", 3))
                .runAt(OffsetDateTime.now(ZoneOffset.UTC).plusDays(1)),
            null);
    Job patched =
        jobs.patchJob("\"" + later.getVersion() + "\"", later.getId(), new PatchJob().priority(7));
    assertThat(patched.getPriority()).isEqualTo(7);
    assertThat(jobs.listJobs("QUEUED", 1000, null).getItems())
        .extracting(Job::getId)
        .contains(later.getId());
    Job cancelled = jobs.cancelJob(later.getId(), null);
    assertThat(cancelled.getStatus()).isEqualTo(Job.StatusEnum.CANCELLED);
    assertThat(cancelled.getTasksCancelled()).isEqualTo(3);

    ApiException missing =
        catchThrowableOfType(ApiException.class, () -> jobs.getJob(new UUID(0, 0)));
    assertThat(missing.getCode()).isEqualTo(404);
    assertThat(Json.read(missing.getResponseBody()).path("error").asText()).contains("no job");
  }

  @Test
  @Order(2)
  void schedulesAndTimeLimitsAnswerAsDocumented() {
    String timed =
        "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"taskTimeout\":\"30s\",\"deadline\":\"1h\","
            + "\"retry\":{\"base\":\"1s\",\"max\":\"1m\"}}";
    assertThat(submit(timed, 201).path("taskTimeout").asText()).isNotEmpty();
    submit(timed.replace("30s", "soon"), 400);

    String base = "/api/v1/schedules";
    String body =
        "{\"name\":\"contract\",\"every\":\"1h\",\"job\":{\"type\":\"noop\",\"payload\":{\"tasks\":1}}}";
    contract.checkRequest("POST", base, body);
    JsonNode created = ok("POST", base, base, body, 201);
    ok("POST", base, base, body, 409);
    ok("POST", base, base, "{\"name\":\"bad\",\"job\":{}}", 400);
    ok("GET", base, base + "?limit=10", null, 200);
    String one = base + "/{name}";
    ok("GET", one, base + "/contract", null, 200);
    ok("GET", one, base + "/missing", null, 404);
    String patch = "{\"paused\":true}";
    contract.checkRequest("PATCH", one, patch);
    String v = "\"" + created.path("version").asLong() + "\"";
    ok("PATCH", one, base + "/contract", "{\"every\":\"2h\"}", 200, "If-Match", v);
    ok("PATCH", one, base + "/contract", patch, 409, "If-Match", v);
    ok("PATCH", one, base + "/contract", patch, 428);
    ok("DELETE", one, base + "/contract", null, 204);
    ok("DELETE", one, base + "/contract", null, 404);
  }

  @Test
  @Order(3)
  void everyDocumentedOperationMetARealAnswer() {
    assertThat(contract.operationsChecked()).isEqualTo(contract.operations());
    assertThat(contract.checks())
        .contains(
            "POST /api/v1/jobs 201",
            "POST /api/v1/jobs 200",
            "POST /api/v1/jobs 400",
            "POST /api/v1/jobs 401",
            "POST /api/v1/jobs 409",
            "POST /api/v1/jobs 413",
            "POST /api/v1/jobs 415",
            "POST /api/v1/jobs 429",
            "POST /api/v1/jobs/batch 400",
            "POST /api/v1/jobs/batch 409",
            "PATCH /api/v1/jobs/{id} 428");
  }

  private JsonNode submit(String body, int status) {
    if (status < 300) {
      contract.checkRequest("POST", "/api/v1/jobs", body);
    }
    HttpResponse<String> r = call("POST", "/api/v1/jobs", Stack.TOKEN, "application/json", body);
    contract.check("POST", "/api/v1/jobs", r);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return Json.read(r.body());
  }

  /** A call with the submitting tenant's token, checked against the document and its status. */
  private JsonNode ok(
      String method, String template, String path, String body, int status, String... headers) {
    String type = body == null ? null : "application/json";
    HttpResponse<String> r = call(method, path, Stack.TOKEN, type, body, headers);
    contract.check(method, template, r);
    assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isEqualTo(status);
    String contentType = r.headers().firstValue("Content-Type").orElse("");
    return contentType.startsWith("application/json") ? Json.read(r.body()) : Json.object();
  }

  private HttpResponse<String> call(
      String method, String path, String token, String type, String body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(stack.api() + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    }
  }
}
