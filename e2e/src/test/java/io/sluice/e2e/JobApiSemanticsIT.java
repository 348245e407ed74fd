package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.client.JobUpdate;
import io.sluice.client.RetryOnConflict;
import io.sluice.client.SluiceApiException;
import io.sluice.client.SluiceClient;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.health.ClientMetrics;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Idempotent submission under concurrency, optimistic versioning with {@code If-Match}, the
 * client's retry on conflict, and that every rejection changes nothing. No workers run, so jobs
 * stay live.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobApiSemanticsIT {
  static final String OTHER_TOKEN = "other-tenant-token-42";
  private static final String JOB = "{\"type\":\"probe\",\"payload\":{\"tasks\":3}}";

  private Stack stack;
  private JobApi api;

  @BeforeAll
  void start(TestEnvironment env) {
    stack =
        new Stack(
            env,
            0,
            1,
            c -> c.withTokens(tokens()).withLimits(new ApiLimits(100_000, 100_000, 0, Map.of())));
    api = new JobApi(stack);
  }

  static ApiTokens tokens() {
    return ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-b:" + OTHER_TOKEN);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void fiftyConcurrentSubmissionsWithOneKeyCreateOneJobAndEveryAnswerNamesIt() throws Exception {
    for (int round = 0; round < 3; round++) {
      String key = "concurrent-" + round;
      String body =
          "{\"type\":\"probe\",\"idempotencyKey\":\"" + key + "\",\"payload\":{\"tasks\":3}}";

      List<HttpResponse<String>> answers = concurrently(50, () -> api.submit(Stack.TOKEN, body));

      assertThat(answers).extracting(HttpResponse::statusCode).filteredOn(s -> s == 201).hasSize(1);
      assertThat(answers)
          .extracting(HttpResponse::statusCode)
          .filteredOn(s -> s == 200)
          .hasSize(49);
      Set<String> ids = new HashSet<>();
      answers.forEach(a -> ids.add(Json.read(a.body()).get("id").asText()));
      assertThat(ids).as("every answer names the one job").hasSize(1);
      UUID id = UUID.fromString(ids.iterator().next());
      assertThat(api.count("SELECT count(*) FROM jobs WHERE idempotency_key = ?", key))
          .isEqualTo(1);
      assertThat(api.count("SELECT count(*) FROM tasks WHERE job_id = ?", id)).isEqualTo(3);

      HttpResponse<String> otherTenant = api.submit(OTHER_TOKEN, body);
      assertThat(otherTenant.statusCode()).as("keys are unique per token").isEqualTo(201);
      assertThat(Json.read(otherTenant.body()).get("id").asText()).isNotEqualTo(id.toString());
    }
  }

  @Test
  void aPatchNeedsTheVersionItReadAndAStaleOneIsToldTheCurrentVersion() {
    UUID id = api.createRunning(JOB);
    HttpResponse<String> read = api.get(id);
    long version = Json.read(read.body()).get("version").asLong();
    assertThat(read.headers().firstValue("ETag")).hasValue("\"" + version + "\"");
    List<Long> before = api.footprint();

    HttpResponse<String> noIfMatch = api.patch(id, null, "{\"priority\":7}");
    HttpResponse<String> applied =
        api.patch(id, "\"" + version + "\"", "{\"priority\":7,\"labels\":{\"team\":\"blue\"}}");
    HttpResponse<String> stale = api.patch(id, "\"" + version + "\"", "{\"priority\":9}");

    assertThat(noIfMatch.statusCode()).as(noIfMatch.body()).isEqualTo(428);
    assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
    JsonNode job = Json.read(applied.body());
    assertThat(job.get("version").asLong()).isEqualTo(version + 1);
    assertThat(applied.headers().firstValue("ETag")).hasValue("\"" + (version + 1) + "\"");
    assertThat(job.get("priority").asInt()).isEqualTo(7);
    assertThat(job.get("labels").get("team").asText()).isEqualTo("blue");
    assertThat(stale.statusCode()).isEqualTo(409);
    assertThat(Json.read(stale.body()).get("currentVersion").asLong()).isEqualTo(version + 1);
    assertThat(api.job(id).get("priority").asInt())
        .as("the stale write changed nothing")
        .isEqualTo(7);
    assertThat(api.count("SELECT count(*) FROM job_events WHERE job_id = ? AND kind = 'PATCH'", id))
        .isEqualTo(1);
    assertThat(api.footprint().subList(0, 3))
        .as("one PATCH event more, nothing else")
        .isEqualTo(List.of(before.get(0), before.get(1), before.get(2) + 1));
  }

  @Test
  void rejectedPatchesAndCancelsSayWhyAndChangeNothing() {
    UUID id = api.createRunning(JOB);
    UUID finished = api.createRunning(JOB);
    assertThat(api.cancel(finished).statusCode()).isEqualTo(200);
    String v = "\"" + api.job(id).get("version").asLong() + "\"";
    String fv = "\"" + api.job(finished).get("version").asLong() + "\"";
    List<Long> before = api.footprint();

    expect(api.patch(id, v, "{\"priority\":5000}"), 400, "priority");
    expect(api.patch(id, v, "{\"status\":\"SUCCEEDED\"}"), 400, "unknown or unchangeable field");
    expect(api.patch(id, v, "{}"), 400, "changes nothing");
    expect(api.patch(id, v, "{\"labels\":{\"a\":1}}"), 400, "label values");
    expect(api.patch(id, v, "{\"maxAttempts\":0}"), 400, "maxAttempts");
    expect(api.patch(id, v, "{\"priority\":"), 400, "malformed JSON");
    expect(api.patch(id, "\"seven\"", "{\"priority\":1}"), 400, "If-Match");
    expect(api.patch(id, v, "text/plain", Stack.TOKEN, "{\"priority\":1}"), 415, "Content-Type");
    expect(api.patch(id, v, "application/json", null, "{\"priority\":1}"), 401, "bearer token");
    expect(api.patch(id, v, "application/json", OTHER_TOKEN, "{\"priority\":1}"), 404, "no job");
    expect(api.patch(UUID.randomUUID(), v, "{\"priority\":1}"), 404, "no job");
    HttpResponse<String> done = api.patch(finished, fv, "{\"priority\":1}");
    expect(done, 409, "only a QUEUED or RUNNING job");
    assertThat(Json.read(done.body()).has("currentVersion"))
        .as("no version makes a finished job changeable, so none is offered")
        .isFalse();
    expect(api.cancel(finished, OTHER_TOKEN), 404, "no job");
    expect(api.cancel(id, "wrong-token-123"), 401, "not valid");

    assertThat(api.footprint()).as("jobs, tasks, events, versions, Redis keys").isEqualTo(before);
  }

  @Test
  void concurrentReadModifyWritesThroughTheClientLoseNoUpdate() throws Exception {
    UUID id = api.create(JOB);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    SluiceClient client =
        SluiceClient.create(
            URI.create(stack.api()),
            Stack.TOKEN,
            new ClientMetrics(metrics),
            new RetryOnConflict(100, Duration.ofMillis(2), Duration.ofMillis(100)));

    concurrently(
        24,
        () ->
            client.update(
                id,
                job -> {
                  int n = Integer.parseInt(job.labels().getOrDefault("count", "0"));
                  return JobUpdate.labels(Map.of("count", String.valueOf(n + 1)));
                }));

    assertThat(api.job(id).get("labels").get("count").asText())
        .as("24 increments, none lost")
        .isEqualTo("24");
    assertThat(metrics.counter("sluice_client_conflicts_total").count()).isPositive();
    assertThat(metrics.counter("sluice_client_retries_total", "reason", "conflict").count())
        .isPositive();
    assertThat(stack.get("/metrics").body())
        .containsPattern("sluice_api_version_conflicts_total [1-9]");

    double retriesBefore =
        metrics.counter("sluice_client_retries_total", "reason", "conflict").count();
    assertThatThrownBy(() -> client.update(id, job -> JobUpdate.priority(5000)))
        .isInstanceOfSatisfying(
            SluiceApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.isRetryable()).isFalse();
            });
    assertThatThrownBy(() -> client.update(UUID.randomUUID(), job -> JobUpdate.priority(1)))
        .isInstanceOfSatisfying(
            SluiceApiException.class, e -> assertThat(e.status()).isEqualTo(404));
    assertThat(metrics.get("sluice_client_retries_total").counters())
        .as("a validation error or unknown job is never retried")
        .allSatisfy(
            c ->
                assertThat(c.count())
                    .isEqualTo(c.getId().getTag("reason").equals("conflict") ? retriesBefore : 0));
  }

  @Test
  void aTokenOverItsRateGets429WithRetryAfterAndChangesNothing() {
    var config =
        CoordinatorConfig.builder(Stack.database(stack.env, 2), Stack.redis(stack.env), tokens())
            .httpPort(0)
            .nodeId("limited-" + stack.env.redisPrefix())
            .limits(new ApiLimits(1, 3, 0, Map.of()))
            .build();
    try (var limited = Coordinator.start(config)) {
      String base = "http://127.0.0.1:" + limited.port();
      for (int i = 0; i < 3; i++) {
        assertThat(
                JobApi.post(
                        base,
                        "/api/v1/jobs/" + UUID.randomUUID() + "/cancel",
                        Stack.TOKEN,
                        null,
                        "")
                    .statusCode())
            .isEqualTo(404);
      }
      List<Long> before = api.footprint();

      HttpResponse<String> limitedAnswer =
          JobApi.post(base, "/api/v1/jobs", Stack.TOKEN, "application/json", JOB);

      expect(limitedAnswer, 429, "rate limit");
      long retryAfter =
          Long.parseLong(limitedAnswer.headers().firstValue("Retry-After").orElseThrow());
      assertThat(retryAfter).isBetween(1L, 2L);
      assertThat(api.footprint()).isEqualTo(before);
      assertThat(
              JobApi.post(
                      base, "/api/v1/jobs/" + UUID.randomUUID() + "/cancel", OTHER_TOKEN, null, "")
                  .statusCode())
          .as("another token has its own budget")
          .isEqualTo(404);
      await()
          .pollDelay(Duration.ofSeconds(retryAfter))
          .atMost(Duration.ofSeconds(retryAfter + 3))
          .until(
              () ->
                  JobApi.post(base, "/api/v1/jobs", Stack.TOKEN, "application/json", JOB)
                          .statusCode()
                      == 201);
    }
  }

  private static void expect(HttpResponse<String> response, int status, String says) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/json");
    assertThat(Json.read(response.body()).get("error").asText()).contains(says);
  }

  /** Runs {@code n} copies of the call on real threads released together by a barrier. */
  static <T> List<T> concurrently(int n, Callable<T> call) throws Exception {
    CyclicBarrier barrier = new CyclicBarrier(n);
    List<T> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(
            pool.submit(
                () -> {
                  barrier.await();
                  return call.call();
                }));
      }
      for (Future<T> f : futures) {
        results.add(f.get());
      }
    }
    return results;
  }
}
