package io.sluice.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.json.Json;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;

/**
 * A coordinator and in-process workers on a test's own database and Redis prefix, over real HTTP.
 */
final class Stack implements AutoCloseable {
  static final String TOKEN = "test-token-0123456789";

  /**
   * An admin token ({@code SLUICE_ADMIN_TOKENS}, tenant {@code ops}): {@link #get} reads with it,
   * so a test sees every tenant's jobs whichever token submitted them.
   */
  static final String ADMIN_TOKEN = "admin-token-0123456789";

  final TestEnvironment env;
  final Coordinator coordinator;
  final List<Worker> workers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  Stack(TestEnvironment env, int workerCount, int concurrency) {
    this(env, workerCount, concurrency, UnaryOperator.identity());
  }

  /** A stack whose coordinator configuration is {@code tweak}ed (tokens, API limits). */
  Stack(
      TestEnvironment env,
      int workerCount,
      int concurrency,
      UnaryOperator<CoordinatorConfig> tweak) {
    this.env = env;
    this.coordinator = Coordinator.start(tweak.apply(coordinatorConfig(env)));
    for (int i = 0; i < workerCount; i++) {
      workers.add(Worker.start(workerConfig(env, "w" + i, concurrency)));
    }
  }

  static CoordinatorConfig coordinatorConfig(TestEnvironment env) {
    return CoordinatorConfig.builder(
            database(env, 8), redis(env), ApiTokens.parse("tenant-a:" + TOKEN))
        .adminTokens(ApiTokens.parse("ops:" + ADMIN_TOKEN))
        .httpPort(0)
        .maxBodyBytes(1024 * 1024)
        .nodeId("coord-" + env.redisPrefix())
        .sweepInterval(Duration.ofMillis(200))
        .dispatchGrace(Duration.ofSeconds(5))
        // The sweeper's collect repair is off for the length of any test: every job here is
        // collected through the fan-in trigger and the collect listener, so a broken trigger fails
        // these tests instead of being repaired behind their back. The repair path has its own
        // tests (coordinator SweeperStarvationIT, the fault tests).
        .collectGrace(Duration.ofHours(1))
        .collectingGrace(Duration.ofSeconds(10))
        .leaderLease(Duration.ofSeconds(2))
        .reapIdle(Duration.ofSeconds(5))
        .nodeDeadAfter(Duration.ofSeconds(10))
        .build();
  }

  static WorkerConfig workerConfig(TestEnvironment env, String id, int concurrency) {
    return workerBuilder(env, id, concurrency).build();
  }

  /** A test worker on queue {@code default} with fast retries, for a test to adjust. */
  static WorkerConfig.Builder workerBuilder(TestEnvironment env, String id, int concurrency) {
    return WorkerConfig.builder(database(env, 4), redis(env))
        .workerId(id + "-" + env.redisPrefix())
        .queues(List.of("default"))
        .concurrency(concurrency)
        .lease(Duration.ofSeconds(10))
        .retryBase(Duration.ofMillis(50))
        .retryMax(Duration.ofMillis(200))
        .drainGrace(Duration.ofSeconds(5))
        .httpPort(0);
  }

  static DatabaseConfig database(TestEnvironment env, int pool) {
    return new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), pool);
  }

  static RedisConfig redis(TestEnvironment env) {
    return RedisConfig.parse(env.redisUrl(), env.redisPrefix());
  }

  String api() {
    return "http://127.0.0.1:" + coordinator.port();
  }

  HttpResponse<String> post(String path, String contentType, String token, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(b.build());
  }

  HttpResponse<String> submit(String body) {
    return post("/api/v1/jobs", "application/json", TOKEN, body);
  }

  /** A GET with the admin token. */
  HttpResponse<String> get(String path) {
    return get(path, ADMIN_TOKEN);
  }

  /** A GET with {@code token}, or with none when it is null. */
  HttpResponse<String> get(String path, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api() + path)).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(b.build());
  }

  JsonNode job(String id) {
    return Json.read(get("/api/v1/jobs/" + id).body());
  }

  /** Waits for the job to reach a terminal state and returns it. */
  JsonNode awaitTerminal(String id, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode job = job(id);
      if (Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(job.path("status").asText())) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " not terminal after " + timeout + ": " + job);
      }
      Awaitility.await().pollDelay(Duration.ofMillis(50)).until(() -> true);
    }
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.uri() + " failed", e);
    }
  }

  @Override
  public void close() {
    workers.forEach(Worker::close);
    coordinator.close();
  }
}
