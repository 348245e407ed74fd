package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.EmbeddedRedis;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import redis.clients.jedis.Jedis;

/**
 * Servers the fault tests own (so they may restart, stop or flush them), an in-process coordinator,
 * and worker JVMs started as child processes that the tests SIGKILL, SIGSTOP and SIGTERM.
 */
final class FaultHarness implements AutoCloseable {
  static final String TOKEN = "fault-token-0123456789";
  static final String DATABASE = "sluice_faults";

  final Path dir;
  final EmbeddedRedis redis;
  final EmbeddedPostgres postgres;

  /** The in-process coordinator; null for a harness whose coordinators are child JVMs. */
  final Coordinator coordinator;

  final List<ChildJvm> workers = new ArrayList<>();
  final List<ChildJvm> coordinators = new ArrayList<>();
  private volatile String api;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private int spawned;

  FaultHarness() throws Exception {
    this(Duration.ofSeconds(1));
  }

  /**
   * @param collectGrace how long the sweeper waits before collecting a finished job whose trigger
   *     was lost; far beyond a test's length, only the fan-in trigger path collects
   */
  FaultHarness(Duration collectGrace) throws Exception {
    this(collectGrace, true);
  }

  /**
   * @param inProcess whether to start the in-process coordinator; without it the test starts
   *     coordinator JVMs ({@link #startCoordinator}) and points the API at one ({@link #useApi})
   */
  FaultHarness(Duration collectGrace, boolean inProcess) throws Exception {
    dir = Files.createTempDirectory("sluice-faults");
    Files.createDirectories(dir.resolve("redis"));
    Files.createDirectories(dir.resolve("postgres"));
    redis = EmbeddedRedis.launch(0, dir.resolve("redis"));
    postgres = EmbeddedPostgres.launch(0, dir.resolve("postgres"));
    postgres.createDatabase(DATABASE);
    if (!inProcess) {
      coordinator = null;
      return;
    }
    coordinator =
        Coordinator.start(
            CoordinatorConfig.builder(
                    new DatabaseConfig(postgres.jdbcUrl(DATABASE), EmbeddedPostgres.USER, null, 8),
                    RedisConfig.parse(redis.url(), "sluice"),
                    ApiTokens.parse(TOKEN))
                .httpPort(0)
                .nodeId("fault-coordinator")
                .sweepInterval(Duration.ofMillis(250))
                .dispatchGrace(Duration.ofSeconds(5))
                .collectGrace(collectGrace)
                .collectingGrace(Duration.ofSeconds(10))
                .leaderLease(Duration.ofSeconds(2))
                .reapIdle(Duration.ofSeconds(4))
                .nodeDeadAfter(Duration.ofSeconds(6))
                .build());
    api = "http://127.0.0.1:" + coordinator.port();
  }

  Map<String, String> workerEnv(String id) {
    Map<String, String> env = new HashMap<>();
    env.put("SLUICE_REDIS_URL", redis.url());
    env.put("SLUICE_DATABASE_URL", postgres.jdbcUrl(DATABASE));
    env.put("SLUICE_DATABASE_USER", EmbeddedPostgres.USER);
    env.put("SLUICE_WORKER_ID", id);
    env.put("SLUICE_HTTP_PORT", String.valueOf(freePort()));
    env.put("SLUICE_WORKER_CONCURRENCY", "4");
    env.put("SLUICE_LEASE_DURATION", "3s");
    env.put("SLUICE_RETRY_BASE", "100ms");
    env.put("SLUICE_DRAIN_GRACE", "1s");
    return env;
  }

  ChildJvm startWorker(Map<String, String> env) {
    ChildJvm jvm =
        ChildJvm.builder("io.sluice.worker.WorkerMain")
            .name(env.get("SLUICE_WORKER_ID"))
            .classpath(ChildJvm.currentClasspath())
            .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .env(env)
            .logFile(dir.resolve(env.get("SLUICE_WORKER_ID") + ".log"))
            .start();
    workers.add(jvm);
    return jvm;
  }

  ChildJvm startWorker() {
    return startWorker(workerEnv("worker-" + (++spawned)));
  }

  void startWorkers(int count) {
    for (int i = 0; i < count; i++) {
      startWorker();
    }
  }

  /**
   * Starts a coordinator JVM named {@code node} on {@code port}, with the in-process coordinator's
   * timings (leader lease 2 s, collecting grace 3 s); it migrates the database as it starts.
   */
  ChildJvm startCoordinator(String node, int port) {
    Map<String, String> env = new HashMap<>();
    env.put("SLUICE_REDIS_URL", redis.url());
    env.put("SLUICE_DATABASE_URL", postgres.jdbcUrl(DATABASE));
    env.put("SLUICE_DATABASE_USER", EmbeddedPostgres.USER);
    env.put("SLUICE_API_TOKENS", TOKEN);
    env.put("SLUICE_HTTP_PORT", String.valueOf(port));
    env.put("SLUICE_NODE_ID", node);
    env.put("SLUICE_LEADER_LEASE", "2s");
    env.put("SLUICE_SWEEP_INTERVAL", "250ms");
    env.put("SLUICE_DISPATCH_GRACE", "3s");
    env.put("SLUICE_COLLECTING_GRACE", "3s");
    ChildJvm jvm =
        ChildJvm.builder("io.sluice.coordinator.CoordinatorMain")
            .name(node)
            .classpath(ChildJvm.currentClasspath())
            .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .env(env)
            .logFile(dir.resolve(node + ".log"))
            .start();
    coordinators.add(jvm);
    return jvm;
  }

  /** Sends the API calls to the coordinator on {@code port} from now on. */
  void useApi(int port) {
    api = "http://127.0.0.1:" + port;
  }

  String api() {
    return api;
  }

  String submit(String body) {
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(URI.create(api() + "/api/v1/jobs"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.read(r.body()).get("id").asText();
  }

  JsonNode job(String id) {
    return Json.read(
        send(HttpRequest.newBuilder(URI.create(api() + "/api/v1/jobs/" + id))
                .header("Authorization", "Bearer " + TOKEN)
                .build())
            .body());
  }

  int readyStatus() {
    return send(HttpRequest.newBuilder(URI.create(api() + "/health/ready")).build()).statusCode();
  }

  String workerMetrics(int port) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build())
        .body();
  }

  /** Waits until the job is terminal; the coordinator must answer throughout (it may say 503). */
  JsonNode awaitTerminal(String id, Duration timeout) {
    JsonNode[] last = new JsonNode[1];
    try {
      awaitTerminal(id, timeout, last);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "job " + id + " not terminal after " + timeout + ": " + last[0] + "; " + diagnose(id), e);
    }
    return last[0];
  }

  /** Where a stuck job's tasks are, for the failure message. */
  String diagnose(String id) {
    StringBuilder sb = new StringBuilder("tasks by status:");
    try (Connection c = postgres.connect(DATABASE);
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT status, count(*), min(seq), max(lease_expires_at) FROM tasks WHERE job_id = '"
                        + id
                        + "' GROUP BY status")) {
      while (rs.next()) {
        sb.append(' ')
            .append(rs.getString(1))
            .append('=')
            .append(rs.getLong(2))
            .append("(first ")
            .append(rs.getInt(3))
            .append(", lease ")
            .append(rs.getString(4))
            .append(')');
      }
    } catch (Exception e) {
      sb.append(" unavailable: ").append(e);
    }
    try (Jedis jedis = new Jedis(URI.create(redis.url()))) {
      sb.append("; ready stream length ").append(jedis.xlen("sluice:{q:default}:ready"));
      sb.append(", pending ")
          .append(jedis.xpending("sluice:{q:default}:ready", "workers").getTotal());
    } catch (Exception e) {
      sb.append("; redis unavailable: ").append(e);
    }
    return sb.toString();
  }

  private void awaitTerminal(String id, Duration timeout, JsonNode[] last) {
    Awaitility.await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () -> {
              last[0] = job(id);
              return Set.of("SUCCEEDED", "FAILED", "CANCELLED")
                  .contains(last[0].path("status").asText());
            });
  }

  int tasksFinished(String id) {
    JsonNode job = job(id);
    return job.path("tasksSucceeded").asInt() + job.path("tasksFailed").asInt();
  }

  /** Runs a query against the test database and returns the first column of the first row. */
  long scalar(String sql) throws Exception {
    try (Connection c = postgres.connect(DATABASE);
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The invariants every fault test checks at the end. */
  void assertExactlyOnce(String id, JsonNode job) throws Exception {
    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    int taskCount = job.get("taskCount").asInt();
    assertThat(job.get("tasksSucceeded").asInt() + job.get("tasksFailed").asInt())
        .isEqualTo(taskCount);
    assertThat(
            scalar(
                "SELECT count(*) FROM tasks WHERE job_id = '" + id + "' AND status = 'SUCCEEDED'"))
        .as("each task has exactly one committed result")
        .isEqualTo(job.get("tasksSucceeded").asLong());
    assertThat(
            scalar(
                "SELECT count(*) FROM job_events WHERE job_id = '"
                    + id
                    + "' AND to_status = 'SUCCEEDED'"))
        .as("collected exactly once")
        .isEqualTo(1);
  }

  static String wordcountBody(String text, int linesPerTask, int delayMs) {
    var body = Json.object().put("type", "wordcount").put("maxAttempts", 10);
    body.putObject("payload")
        .put("text", text)
        .put("linesPerTask", linesPerTask)
        .put("taskDelayMs", delayMs);
    return Json.write(body);
  }

  static long countWords(String text) {
    return Pattern.compile("\\P{L}+")
        .splitAsStream(text.toLowerCase(Locale.ROOT))
        .filter(w -> !w.isEmpty())
        .count();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.uri() + " failed: " + e, e);
    }
  }

  void stopWorkers() {
    workers.forEach(ChildJvm::kill);
    workers.clear();
  }

  @Override
  public void close() {
    stopWorkers();
    coordinators.forEach(ChildJvm::kill);
    if (coordinator != null) {
      coordinator.close();
    }
    postgres.close();
    redis.close();
  }
}
