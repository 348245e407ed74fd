package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G9 over real HTTP: every read of job data needs a token and shows only the token's tenant's jobs
 * (another tenant's job is a 404, lists leave it out), an admin token sees every tenant, and a
 * requeue is scoped to the tenant and cannot take it past its quota of active jobs.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantIsolationIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String A = Stack.TOKEN;
  private static final String B = "tenant-b-token-0123456789";
  private static final String C = "tenant-c-token-0123456789";
  private static final String Q = "tenant-q-token-0123456789";

  private final HttpClient http = HttpClient.newHttpClient();
  private Stack stack;
  private JobApi api;
  private String jobOfA;
  private String failedJobOfB;

  @BeforeAll
  void start(TestEnvironment env) {
    stack =
        new Stack(
            env,
            1,
            4,
            c ->
                c.withTokens(
                        ApiTokens.parse(
                            "tenant-a:"
                                + A
                                + ",tenant-b:"
                                + B
                                + ",tenant-c:"
                                + C
                                + ",tenant-q:"
                                + Q))
                    .withLimits(new ApiLimits(100_000, 100_000, 0, Map.of("tenant-q", 1))));
    api = new JobApi(stack);
    FixableJobType.BROKEN.set(true);
    jobOfA = submit(A, "{\"type\":\"noop\",\"payload\":{\"tasks\":3}}");
    failedJobOfB = submit(B, fixable(2, 1));
    assertThat(stack.awaitTerminal(jobOfA, WAIT).get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(stack.awaitTerminal(failedJobOfB, WAIT).get("status").asText()).isEqualTo("FAILED");
  }

  @AfterAll
  void stop() {
    FixableJobType.BROKEN.set(true);
    stack.close();
  }

  @Test
  void everyReadOfJobDataNeedsAToken() {
    for (String path : readPaths(jobOfA)) {
      expect(stack.get(path, null), 401, "missing bearer token");
      expect(stack.get(path, "not-a-token-of-this-stack"), 401, "not valid");
    }
    assertThat(api.events(UUID.fromString(jobOfA), null).statusCode()).isEqualTo(401);
  }

  @Test
  void aTenantSeesOnlyItsOwnJobsOnEveryReadEndpoint() {
    assertThat(jobIds(A)).contains(jobOfA).doesNotContain(failedJobOfB);
    assertThat(jobIds(B)).contains(failedJobOfB).doesNotContain(jobOfA);
    assertThat(jobIds(C)).isEmpty();

    for (String path : jobPaths(failedJobOfB)) {
      expect(stack.get(path, A), 404, "no job");
      assertThat(stack.get(path, B).statusCode()).as(path).isEqualTo(200);
    }
    HttpResponse<Stream<String>> foreign = api.events(UUID.fromString(failedJobOfB), A);
    assertThat(foreign.statusCode()).isEqualTo(404);
    assertThat(foreign.body().collect(Collectors.joining())).contains("no job");
    List<String> own = api.events(UUID.fromString(failedJobOfB), B).body().toList();
    assertThat(own).contains("event: end").anyMatch(l -> l.contains(failedJobOfB));

    assertThat(deadLetterJobs(B)).containsOnly(failedJobOfB);
    assertThat(deadLetterJobs(A)).doesNotContain(failedJobOfB);
    assertThat(deadLetterJobs(C)).isEmpty();
    assertThat(ok(stack.get("/api/v1/queues", C)).get("items")).isEmpty();
    JsonNode queuesOfA = ok(stack.get("/api/v1/queues", A)).get("items");
    assertThat(queuesOfA).hasSize(1);
    assertThat(queuesOfA.get(0).get("name").asText()).isEqualTo("default");
  }

  @Test
  void aWorkerCountsForATenantOnlyTheTenantsRunningTasks() {
    String slow = submit(A, "{\"type\":\"noop\",\"payload\":{\"tasks\":4,\"taskDelayMs\":3000}}");
    await("the worker runs tasks of tenant-a")
        .atMost(WAIT)
        .until(() -> running(A) > 0 && running(Stack.ADMIN_TOKEN) > 0);
    assertThat(running(C)).as("tenant-c's view of the worker").isZero();
    expect(stack.get("/api/v1/jobs/" + slow, C), 404, "no job");
    assertThat(api.events(UUID.fromString(slow), C).statusCode()).isEqualTo(404);
    assertThat(stack.awaitTerminal(slow, WAIT).get("status").asText()).isEqualTo("SUCCEEDED");
  }

  @Test
  void anAdminTokenSeesEveryTenant() {
    assertThat(jobIds(Stack.ADMIN_TOKEN)).contains(jobOfA, failedJobOfB);
    for (String path : jobPaths(failedJobOfB)) {
      assertThat(stack.get(path, Stack.ADMIN_TOKEN).statusCode()).as(path).isEqualTo(200);
    }
    assertThat(deadLetterJobs(Stack.ADMIN_TOKEN)).contains(failedJobOfB);
    assertThat(api.events(UUID.fromString(jobOfA), Stack.ADMIN_TOKEN).body().toList())
        .contains("event: end");
  }

  @Test
  void aRequeueOfAnotherTenantsTaskIsNotFoundAndChangesNothing() {
    List<Long> before = api.footprint();

    expect(requeue(failedJobOfB, 1, A), 404, "no job");
    expect(requeue(failedJobOfB, 1, C), 404, "no job");

    assertThat(api.footprint()).as("jobs, tasks, events, versions, Redis keys").isEqualTo(before);
    assertThat(stack.job(failedJobOfB).get("status").asText()).isEqualTo("FAILED");
  }

  @Test
  void aRequeueThatWouldTakeATenantPastItsQuotaGets429AndChangesNothing() {
    FixableJobType.BROKEN.set(true);
    String failed = submit(Q, fixable(2, 0));
    assertThat(stack.awaitTerminal(failed, WAIT).get("status").asText()).isEqualTo("FAILED");
    String waiting =
        submit(
            Q,
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"runAt\":\""
                + Instant.now().plus(Duration.ofDays(1))
                + "\"}");
    assertThat(submitStatus(Q, "{\"type\":\"noop\",\"payload\":{\"tasks\":1}}"))
        .as("tenant-q is at its quota of one active job")
        .isEqualTo(429);
    List<Long> before = api.footprint();
    long usage = usage("tenant-q");

    HttpResponse<String> own = requeue(failed, 0, Q);
    HttpResponse<String> admin = requeue(failed, 0, Stack.ADMIN_TOKEN);

    for (HttpResponse<String> refused : List.of(own, admin)) {
      expect(refused, 429, "quota");
      assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    }
    assertThat(api.footprint()).as("jobs, tasks, events, versions, Redis keys").isEqualTo(before);
    assertThat(usage("tenant-q")).isEqualTo(usage).isEqualTo(1);
    assertThat(task(failed, 0).get("status").asText()).isEqualTo("FAILED");

    assertThat(api.cancel(UUID.fromString(waiting), Q).statusCode()).isEqualTo(200);
    FixableJobType.BROKEN.set(false);
    HttpResponse<String> freed = requeue(failed, 0, Q);
    assertThat(freed.statusCode()).as(freed.body()).isEqualTo(200);
    JsonNode job = stack.awaitTerminal(failed, WAIT);
    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(2);
  }

  @Test
  void anAdminRequeuesAnotherTenantsTaskAndTheJobCountsAgainstItsOwner() {
    FixableJobType.BROKEN.set(true);
    String failed = submit(B, fixable(3, 2));
    assertThat(stack.awaitTerminal(failed, WAIT).get("status").asText()).isEqualTo("FAILED");
    FixableJobType.BROKEN.set(false);

    HttpResponse<String> requeued = requeue(failed, 2, Stack.ADMIN_TOKEN);

    assertThat(requeued.statusCode()).as(requeued.body()).isEqualTo(200);
    JsonNode job = stack.awaitTerminal(failed, WAIT);
    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(usage("ops")).as("the admin's own tenant counts nothing").isZero();
  }

  private List<String> readPaths(String id) {
    List<String> paths = new ArrayList<>(jobPaths(id));
    paths.addAll(
        List.of("/api/v1/jobs", "/api/v1/workers", "/api/v1/queues", "/api/v1/dead-letters"));
    return paths;
  }

  private static List<String> jobPaths(String id) {
    return List.of("/api/v1/jobs/" + id, "/api/v1/jobs/" + id + "/tasks");
  }

  private List<String> jobIds(String token) {
    List<String> ids = new ArrayList<>();
    ok(stack.get("/api/v1/jobs?limit=1000", token))
        .get("items")
        .forEach(j -> ids.add(j.get("id").asText()));
    return ids;
  }

  private List<String> deadLetterJobs(String token) {
    List<String> ids = new ArrayList<>();
    ok(stack.get("/api/v1/dead-letters?limit=1000", token))
        .get("items")
        .forEach(d -> ids.add(d.get("jobId").asText()));
    return ids;
  }

  /** Running tasks on the worker nodes, as the token sees them. */
  private long running(String token) {
    long total = 0;
    for (JsonNode n : ok(stack.get("/api/v1/workers", token)).get("items")) {
      if (n.get("kind").asText().equals("worker")) {
        total += n.get("runningTasks").asLong();
      }
    }
    return total;
  }

  private JsonNode task(String jobId, int seq) {
    return api.tasks(UUID.fromString(jobId)).stream()
        .filter(t -> t.get("seq").asInt() == seq)
        .findFirst()
        .orElseThrow(() -> new AssertionError("job " + jobId + " has no task " + seq));
  }

  private long usage(String tenant) {
    return api.count(
        "SELECT coalesce(sum(active_jobs), 0) FROM tenant_active_jobs WHERE tenant = ?", tenant);
  }

  private String submit(String token, String body) {
    HttpResponse<String> created = api.submit(token, body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).get("id").asText();
  }

  private int submitStatus(String token, String body) {
    return api.submit(token, body).statusCode();
  }

  private HttpResponse<String> requeue(String jobId, int seq, String token) {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create(stack.api() + "/api/v1/jobs/" + jobId + "/tasks/" + seq + "/requeue"))
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("requeue failed", e);
    }
  }

  private static String fixable(int tasks, int failSeq) {
    return "{\"type\":\"fixable\",\"maxAttempts\":1,\"payload\":{\"tasks\":"
        + tasks
        + ",\"failSeq\":"
        + failSeq
        + "}}";
  }

  private static JsonNode ok(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return Json.read(response.body());
  }

  private static void expect(HttpResponse<String> response, int status, String says) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(Json.read(response.body()).get("error").asText()).contains(says);
  }
}
