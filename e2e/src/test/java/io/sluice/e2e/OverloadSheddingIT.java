package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.Env;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G8 with a stream of one-task jobs: offered three times what this machine sustains, open loop, for
 * 30 s, the coordinator sheds the excess with 503 and {@code Retry-After}, every job it accepted
 * succeeds, the backlogs it admits on stay within their configured bounds, and once the burst ends
 * a probe job runs about as fast as before it. No timed speed assert: the rate is measured first,
 * and the latency bound is what the configured backlogs take to drain at that rate, plus slack.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverloadSheddingIT {
  private static final int MAX_SUBMITTING = 4;
  private static final int WORKER_SLOTS = 2 * 16;
  private static final int MAX_DISPATCH_BACKLOG = 100;
  private static final int MAX_COLLECT_BACKLOG = 100;
  private static final int MAX_QUEUED_TASKS = 200;
  private static final String JOB = "{\"type\":\"noop\",\"payload\":{\"tasks\":1}}";
  private static final Set<String> REASONS =
      Set.of("submissions_in_progress", "dispatch_backlog", "collect_backlog", "queue_backlog");

  private TestEnvironment env;
  private Coordinator coordinator;
  private final List<ChildJvm> workers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(TestEnvironment env) throws Exception {
    this.env = env;
    Map<String, String> vars = env.sluiceEnv();
    vars.put("SLUICE_API_TOKENS", "tenant-a:" + Stack.TOKEN);
    vars.put("SLUICE_HTTP_PORT", "0");
    vars.put("SLUICE_NODE_ID", "coord-" + env.redisPrefix());
    vars.put("SLUICE_DATABASE_POOL_SIZE", "8");
    vars.put("SLUICE_SWEEP_INTERVAL", "500ms");
    vars.put("SLUICE_DISPATCH_GRACE", "5s");
    vars.put("SLUICE_LEADER_LEASE", "2s");
    // Only the backlog bounds shed here: the per-token rate limit would hide what they do.
    vars.put("SLUICE_API_RATE_LIMIT", "0");
    vars.put("SLUICE_ADMIT_MAX_SUBMITTING", String.valueOf(MAX_SUBMITTING));
    vars.put("SLUICE_ADMIT_SUBMIT_WAIT", "1s");
    vars.put("SLUICE_ADMIT_MAX_DISPATCH_BACKLOG", String.valueOf(MAX_DISPATCH_BACKLOG));
    vars.put("SLUICE_ADMIT_MAX_COLLECT_BACKLOG", String.valueOf(MAX_COLLECT_BACKLOG));
    vars.put("SLUICE_ADMIT_MAX_QUEUED_TASKS", String.valueOf(MAX_QUEUED_TASKS));
    coordinator = Coordinator.start(CoordinatorConfig.fromEnv(new Env(vars)));
    Path logs = Files.createTempDirectory("sluice-overload");
    for (int i = 0; i < 2; i++) {
      Map<String, String> w = env.sluiceEnv();
      w.put("SLUICE_WORKER_ID", "overload-w" + i + "-" + env.redisPrefix());
      w.put("SLUICE_HTTP_PORT", "0");
      w.put("SLUICE_WORKER_CONCURRENCY", "16");
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

  @AfterAll
  void stop() {
    workers.forEach(ChildJvm::kill);
    if (coordinator != null) {
      coordinator.close();
    }
  }

  @Test
  void threeTimesTheSustainableRateIsShedAndEveryAcceptedJobSucceedsWithBoundedLatency()
      throws Exception {
    // The worker JVMs are up once a first job runs.
    awaitProbe(Duration.ofSeconds(60), new long[] {60_000, 60_000});
    double sustainable = measureSustainableRate();
    long[] normal = normalLatency();
    double offered = 3 * sustainable;
    System.out.printf(
        "overload: probe %s ms, sustainable %.0f jobs/s, offering %.0f jobs/s%n",
        java.util.Arrays.toString(normal), sustainable, offered);

    double shedBefore = metric("sluice_api_shed_total");
    Map<String, Double> peaks = new ConcurrentHashMap<>();
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(() -> samplePeaks(peaks), 0, 200, TimeUnit.MILLISECONDS);
    List<OpenLoopLoad.Answer> answers;
    try {
      answers =
          new OpenLoopLoad(api() + "/api/v1/jobs", Stack.TOKEN, Duration.ofSeconds(15))
              .run(JOB, offered, Duration.ofSeconds(30));
    } finally {
      sampler.shutdownNow();
    }
    List<OpenLoopLoad.Answer> accepted = answers.stream().filter(a -> a.status() == 201).toList();
    List<OpenLoopLoad.Answer> shed =
        answers.stream().filter(a -> a.status() == 503 || a.status() == 429).toList();
    System.out.printf(
        "overload: %d sent, %d accepted, %d shed %s, peaks %s%n",
        answers.size(),
        accepted.size(),
        shed.size(),
        shed.stream()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    a -> Json.read(a.body()).path("reason").asText(),
                    java.util.stream.Collectors.counting())),
        peaks);

    // Everything accepted finishes, and none waited longer than the bounded backlogs take to
    // drain at the measured rate (plus generous slack).
    double backlogSeconds =
        (MAX_SUBMITTING + MAX_DISPATCH_BACKLOG + MAX_COLLECT_BACKLOG + MAX_QUEUED_TASKS)
            / sustainable;
    long boundMs = Math.round(2_000 * backlogSeconds) + 10_000;
    long burstEnd = System.currentTimeMillis();
    try {
      Awaitility.await()
          .atMost(Duration.ofMillis(boundMs))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> count("SELECT count(*) FROM jobs WHERE finished_at IS NULL") == 0);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          count("SELECT count(*) FROM jobs WHERE finished_at IS NULL")
              + " accepted jobs still unfinished "
              + boundMs
              + " ms after the burst ("
              + count("SELECT count(*) FROM jobs WHERE status = 'QUEUED'")
              + " not yet dispatched)",
          e);
    }
    System.out.printf(
        "overload: all finished %d ms after the burst%n", System.currentTimeMillis() - burstEnd);
    List<UUID> ids = accepted.stream().map(a -> id(a.body())).toList();
    assertThat(count("SELECT count(*) FROM jobs WHERE status = 'SUCCEEDED' AND id = ANY(?)", ids))
        .as("every accepted job SUCCEEDED: none lost")
        .isEqualTo(ids.size());
    long p99 = p99LatencyMs(accepted);
    System.out.printf("overload: accepted p99 submit->SUCCEEDED %d ms (bound %d)%n", p99, boundMs);
    assertThat(p99).as("p99 submit -> SUCCEEDED of accepted jobs").isLessThanOrEqualTo(boundMs);

    assertThat(answers)
        .as("every request is answered 201 or shed with 429/503, none times out or fails")
        .allMatch(a -> a.status() == 201 || a.status() == 503 || a.status() == 429);
    assertThat(shed).as("some of three times the sustainable rate is shed").isNotEmpty();
    assertThat(shed)
        .as("a shed request says why and when to come back")
        .allSatisfy(
            a -> {
              assertThat(a.retryAfter()).isNotNull();
              assertThat(Long.parseLong(a.retryAfter())).isPositive();
              JsonNode body = Json.read(a.body());
              assertThat(body.path("error").asText()).isNotEmpty();
              assertThat(body.path("reason").asText()).isIn(REASONS);
            });

    assertThat(peaks.getOrDefault("sluice_api_submissions_in_progress", -1.0))
        .isBetween(0.0, (double) MAX_SUBMITTING);
    assertThat(peaks.getOrDefault("sluice_dispatch_backlog", -1.0))
        .isBetween(0.0, (double) MAX_DISPATCH_BACKLOG);
    assertThat(peaks.getOrDefault("sluice_collect_backlog", -1.0))
        .as("sampled: may pass its bound by no more than what was admitted upstream of it")
        .isBetween(
            0.0,
            (double)
                (MAX_COLLECT_BACKLOG
                    + MAX_DISPATCH_BACKLOG
                    + MAX_SUBMITTING
                    + MAX_QUEUED_TASKS
                    + WORKER_SLOTS));
    assertThat(metric("sluice_api_shed_total") - shedBefore)
        .as("every shed submission is counted")
        .isEqualTo(shed.size());

    // Back to normal within seconds: a probe runs as fast as before the burst (with slack).
    long[] bound = {2_000 + 5 * normal[0], 2_000 + 5 * normal[1]};
    long[] after = awaitProbe(Duration.ofSeconds(20), bound);
    System.out.printf("overload: probe after the burst %s ms%n", java.util.Arrays.toString(after));
  }

  /**
   * The rate this machine's pipeline runs one-task jobs at now: eight closed-loop submitters for 5
   * s (which also warms the JVMs up), then the rate at which the backlog they left drains, or the
   * rate of the whole phase if that is higher.
   */
  private double measureSustainableRate() throws Exception {
    long startMillis = System.currentTimeMillis();
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    var pool = Executors.newVirtualThreadPerTaskExecutor();
    for (int i = 0; i < 8; i++) {
      pool.submit(
          () -> {
            while (System.nanoTime() < end) {
              post(JOB);
            }
            return null;
          });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    long stopMillis = System.currentTimeMillis();
    long left = count("SELECT count(*) FROM jobs WHERE finished_at IS NULL");
    long total = count("SELECT count(*) FROM jobs");
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> count("SELECT count(*) FROM jobs WHERE finished_at IS NULL") == 0);
    long lastMillis =
        count("SELECT (extract(epoch FROM max(finished_at)) * 1000)::bigint FROM jobs");
    double drain = left * 1000.0 / Math.max(1, lastMillis - stopMillis);
    double whole = total * 1000.0 / Math.max(1, lastMillis - startMillis);
    System.out.printf(
        "overload: %d jobs in 5 s, %d left at the end, drained at %.0f/s, %.0f/s overall%n",
        total, left, drain, whole);
    return Math.max(drain, whole);
  }

  /** The median latencies of three probes on the idle stack: submit to task start, to SUCCEEDED. */
  private long[] normalLatency() throws Exception {
    List<long[]> probes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long[] p = probe();
      assertThat(p).as("an idle coordinator accepts a probe").isNotNull();
      probes.add(p);
    }
    return new long[] {
      probes.stream().mapToLong(p -> p[0]).sorted().toArray()[1],
      probes.stream().mapToLong(p -> p[1]).sorted().toArray()[1]
    };
  }

  /**
   * Submits probe jobs one after another until one starts and succeeds within {@code bound} ms of
   * its submit (task start, SUCCEEDED); returns that probe's two latencies.
   */
  private long[] awaitProbe(Duration atMost, long[] bound) {
    long[][] last = new long[1][];
    Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              last[0] = probe();
              return last[0] != null && last[0][0] <= bound[0] && last[0][1] <= bound[1];
            });
    return last[0];
  }

  /** One probe job's milliseconds from submit to task start and to SUCCEEDED; null when shed. */
  private long[] probe() throws Exception {
    long sent = System.currentTimeMillis();
    HttpResponse<String> r = post(JOB);
    if (r.statusCode() != 201) {
      return null;
    }
    UUID id = id(r.body());
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () ->
                count("SELECT count(*) FROM jobs WHERE id = ? AND status = 'SUCCEEDED'", id) == 1);
    long started =
        count(
            "SELECT (extract(epoch FROM started_at) * 1000)::bigint FROM tasks WHERE job_id = ?",
            id);
    long finished =
        count("SELECT (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs WHERE id = ?", id);
    return new long[] {started - sent, finished - sent};
  }

  private long p99LatencyMs(List<OpenLoopLoad.Answer> accepted) throws Exception {
    Map<UUID, Long> due = new java.util.HashMap<>();
    accepted.forEach(a -> due.put(id(a.body()), a.dueMillis()));
    List<Long> latencies = new ArrayList<>();
    try (Connection c = env.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, (extract(epoch FROM finished_at) * 1000)::bigint FROM jobs"
                    + " WHERE id = ANY(?)")) {
      ps.setArray(1, c.createArrayOf("uuid", due.keySet().toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          latencies.add(rs.getLong(2) - due.get(rs.getObject(1, UUID.class)));
        }
      }
    }
    latencies.sort(null);
    return latencies.isEmpty() ? 0 : latencies.get((int) Math.floor(0.99 * (latencies.size() - 1)));
  }

  private void samplePeaks(Map<String, Double> peaks) {
    try {
      for (String name :
          List.of(
              "sluice_api_submissions_in_progress",
              "sluice_dispatch_backlog",
              "sluice_collect_backlog")) {
        double v = metric(name);
        if (v >= 0) {
          peaks.merge(name, v, Math::max);
        }
      }
    } catch (RuntimeException e) {
      // A sample lost under load is not a peak; the next one follows in 200 ms.
    }
  }

  /** A metric's value summed over its series, or -1 when the coordinator does not export it. */
  private double metric(String name) {
    List<Double> values =
        get("/metrics")
            .lines()
            .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
            .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
            .toList();
    return values.isEmpty() ? -1 : values.stream().mapToDouble(Double::doubleValue).sum();
  }

  private long count(String sql, Object... args) throws Exception {
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

  private static UUID id(String body) {
    return UUID.fromString(Json.read(body).get("id").asText());
  }

  private String api() {
    return "http://127.0.0.1:" + coordinator.port();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api() + "/api/v1/jobs"))
            .timeout(Duration.ofSeconds(15))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + Stack.TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String get(String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(api() + path)).GET().build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (Exception e) {
      throw new IllegalStateException("GET " + path + " failed", e);
    }
  }
}
