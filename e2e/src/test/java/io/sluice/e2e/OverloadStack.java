package io.sluice.e2e;

import io.sluice.config.Env;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import io.sluice.testkit.TestEnvironment;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A coordinator configured from environment variables (so a test can set the {@code SLUICE_*}
 * bounds it checks) and worker JVMs as child processes, on a test's own database and key prefix;
 * with the probes an overload test reads: submissions, rows, metrics, one probe job's latencies.
 */
final class OverloadStack implements AutoCloseable {
  private final TestEnvironment env;
  private final Coordinator coordinator;
  private final List<ChildJvm> workers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  OverloadStack(TestEnvironment env, Map<String, String> settings, int workerCount, int concurrency)
      throws IOException {
    this.env = env;
    Map<String, String> vars = env.sluiceEnv();
    vars.put("SLUICE_API_TOKENS", "tenant-a:" + Stack.TOKEN);
    vars.put("SLUICE_HTTP_PORT", "0");
    vars.put("SLUICE_NODE_ID", "coord-" + env.redisPrefix());
    vars.putAll(settings);
    coordinator = Coordinator.start(CoordinatorConfig.fromEnv(new Env(vars)));
    Path logs = Files.createTempDirectory("sluice-overload");
    for (int i = 0; i < workerCount; i++) {
      Map<String, String> w = env.sluiceEnv();
      w.put("SLUICE_WORKER_ID", "overload-w" + i + "-" + env.redisPrefix());
      w.put("SLUICE_HTTP_PORT", "0");
      w.put("SLUICE_WORKER_CONCURRENCY", String.valueOf(concurrency));
      w.put("SLUICE_DATABASE_POOL_SIZE", "4");
      workers.add(
          ChildJvm.builder("io.sluice.worker.WorkerMain")
              .name("overload-w" + i)
              .classpath(ChildJvm.currentClasspath())
              .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .env(w)
              .logFile(logs.resolve("w" + i + ".log"))
              .start());
    }
  }

  String api() {
    return "http://127.0.0.1:" + coordinator.port();
  }

  HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api() + "/api/v1/jobs"))
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + Stack.TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until every worker JVM heartbeats UP (a loaded machine starts JVMs slowly). */
  void awaitWorkersUp(Duration atMost) {
    Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                count("SELECT count(*) FROM nodes WHERE kind = 'worker' AND status = 'UP'")
                    == workers.size());
  }

  /**
   * One probe job's milliseconds from submit to its task's start and to SUCCEEDED; null when it was
   * shed or took longer than 30 s.
   */
  long[] probe(String body) throws Exception {
    long sent = System.currentTimeMillis();
    HttpResponse<String> r = post(body);
    if (r.statusCode() != 201) {
      return null;
    }
    UUID id = id(r.body());
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  count("SELECT count(*) FROM jobs WHERE id = ? AND status = 'SUCCEEDED'", id)
                      == 1);
    } catch (ConditionTimeoutException e) {
      return null;
    }
    long started =
        count(
            "SELECT (extract(epoch FROM min(started_at)) * 1000)::bigint FROM tasks"
                + " WHERE job_id = ?",
            id);
    long finished =
        count("SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs WHERE id = ?", id);
    return new long[] {started - sent, finished - sent};
  }

  /** Milliseconds from each job's {@code since} to its finish, ascending, for finished jobs. */
  List<Long> finishLatencies(Map<UUID, Long> since) throws Exception {
    List<Long> latencies = new ArrayList<>();
    try (Connection c = env.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs"
                    + " WHERE id = ANY(?) AND finished_at IS NOT NULL")) {
      ps.setArray(1, c.createArrayOf("uuid", since.keySet().toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          latencies.add(rs.getLong(2) - since.get(rs.getObject(1, UUID.class)));
        }
      }
    }
    latencies.sort(null);
    return latencies;
  }

  /** A metric's value summed over its series, or -1 when the coordinator does not export it. */
  double metric(String name) {
    String text;
    try {
      text =
          http.send(
                  HttpRequest.newBuilder(URI.create(api() + "/metrics")).GET().build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    } catch (Exception e) {
      throw new IllegalStateException("GET /metrics failed", e);
    }
    List<Double> values =
        text.lines()
            .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
            .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
            .toList();
    return values.isEmpty() ? -1 : values.stream().mapToDouble(Double::doubleValue).sum();
  }

  /** One number from the test's database; a {@code List} argument binds as a uuid array. */
  long count(String sql, Object... args) throws Exception {
    try (Connection c = env.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        if (args[i] instanceof List<?> list) {
          ps.setArray(i + 1, c.createArrayOf("uuid", list.toArray()));
        } else {
          ps.setObject(i + 1, args[i]);
        }
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  long unfinished() throws Exception {
    return count("SELECT count(*) FROM jobs WHERE finished_at IS NULL");
  }

  static UUID id(String body) {
    return UUID.fromString(Json.read(body).get("id").asText());
  }

  @Override
  public void close() {
    workers.forEach(ChildJvm::kill);
    coordinator.close();
  }
}
