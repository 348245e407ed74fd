package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.DatabaseConfig;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.PostgresLeaderStore;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several coordinators, one leader: kill or pause it and another takes over; the old one is fenced.
 * With jobs in flight: a leader killed between accepting jobs and dispatching them, and a
 * coordinator killed in the middle of a collection, lose no job and count every task once.
 */
@ExtendWith(SluiceTestExtension.class)
class LeaderFailoverIT {
  private static final String TOKEN = "leader-test-token-123";

  private final List<ChildJvm> coordinators = new ArrayList<>();
  private final List<ChildJvm> workers = new ArrayList<>();
  private final Map<String, Integer> ports = new HashMap<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @AfterEach
  void stopAll() {
    workers.forEach(ChildJvm::kill);
    coordinators.forEach(ChildJvm::kill);
  }

  @Test
  void aLeaderKilledBetweenSubmitAndDispatchLosesNoJob(TestEnvironment env) throws Exception {
    startCoordinators(env, 2);
    startWorkers(env, 2);
    Leader leader = awaitLeader(env, -1);
    awaitReady(leader.node());

    Map<String, String> jobs = new LinkedHashMap<>();
    // Running when the leader dies: tasks in flight on the workers.
    for (int i = 0; i < 3; i++) {
      String text = Corpus.text(400, 100 + i);
      jobs.put(submit(leader.node(), FaultHarness.wordcountBody(text, 20, 40)), text);
    }
    // Accepted but not dispatched when it dies: delayed past the kill, so only a leader that
    // takes over can start them.
    Instant runAt = Instant.now().plusSeconds(3);
    for (int i = 0; i < 3; i++) {
      String text = Corpus.text(200, 200 + i);
      var body = (ObjectNode) Json.read(FaultHarness.wordcountBody(text, 20, 0));
      body.put("runAt", runAt.toString());
      jobs.put(submit(leader.node(), Json.write(body)), text);
    }
    // Answered 201 an instant before the kill: their dispatch may not have happened.
    for (int i = 0; i < 5; i++) {
      String text = Corpus.text(100, 300 + i);
      jobs.put(submit(leader.node(), FaultHarness.wordcountBody(text, 10, 0)), text);
    }
    coordinator(leader.node()).kill();

    Leader next = awaitLeader(env, leader.epoch());
    assertThat(next.node()).isNotEqualTo(leader.node());
    assertEveryJobCountedExactlyOnce(env, next.node(), jobs);
  }

  @Test
  void aCoordinatorKilledDuringACollectionIsTakenOverAndTheJobCollectedOnce(TestEnvironment env)
      throws Exception {
    startCoordinators(env, 2);
    startWorkers(env, 2);
    Leader leader = awaitLeader(env, -1);
    coordinators.forEach(c -> awaitReady(c.name()));

    Map<String, String> jobs = new LinkedHashMap<>();
    String key = "slow-" + UUID.randomUUID();
    String slowText = Corpus.text(300, 400);
    var slow = (ObjectNode) Json.read(FaultHarness.wordcountBody(slowText, 30, 0));
    slow.put("type", "slowcollect");
    ((ObjectNode) slow.get("payload")).put("key", key).put("collectDelayMs", 4000);
    String slowId = submit(leader.node(), Json.write(slow));
    jobs.put(slowId, slowText);
    for (int i = 0; i < 3; i++) {
      String text = Corpus.text(600, 500 + i);
      jobs.put(submit(leader.node(), FaultHarness.wordcountBody(text, 20, 60)), text);
    }

    String[] collecting = new String[1];
    Awaitility.await("a coordinator starts the slow collection")
        .atMost(Duration.ofSeconds(60))
        .until(() -> (collecting[0] = collectingNode(key)) != null);
    coordinator(collecting[0]).kill();
    String survivor =
        coordinators.stream()
            .map(ChildJvm::name)
            .filter(n -> !n.equals(collecting[0]))
            .findFirst()
            .orElseThrow();

    assertEveryJobCountedExactlyOnce(env, survivor, jobs);
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT collect_attempts FROM jobs WHERE id = '" + slowId + "'")) {
      rs.next();
      assertThat(rs.getInt(1)).as("collected again after the takeover").isEqualTo(2);
    }
    assertThat(Files.readString(coordinator(survivor).logFile()))
        .as("the survivor took the collection over")
        .contains("slowcollect: collecting " + key + " on " + survivor);
  }

  @Test
  void killingTheLeaderElectsAnotherWithinSeconds(TestEnvironment env) throws Exception {
    startCoordinators(env, 3);
    Leader first = awaitLeader(env, -1);

    coordinators.stream()
        .filter(c -> c.name().equals(first.node()))
        .findFirst()
        .orElseThrow()
        .kill();
    long killedAt = System.nanoTime();
    Leader second = awaitLeader(env, first.epoch());

    assertThat(second.node()).isNotEqualTo(first.node());
    assertThat(second.epoch()).isGreaterThan(first.epoch());
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aLeaderPausedPastItsLeaseIsDeposedAndStepsDownWhenItWakes(TestEnvironment env)
      throws Exception {
    startCoordinators(env, 2);
    Leader first = awaitLeader(env, -1);
    ChildJvm paused =
        coordinators.stream().filter(c -> c.name().equals(first.node())).findFirst().orElseThrow();

    paused.pause();
    Leader second = awaitLeader(env, first.epoch());
    paused.resume();

    assertThat(second.node()).isNotEqualTo(first.node());
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> Files.readString(paused.logFile()).contains("is no longer the leader"));
    assertThat(currentLeader(env)).isEqualTo(second);
  }

  @Test
  void aDeposedLeadersFencedWriteChangesNothing(TestEnvironment env) throws Exception {
    try (Database db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2), "fence-test")) {
      db.migrate();
      PostgresLeaderStore store = new PostgresLeaderStore();
      // Earlier tests' coordinators were killed; their lease runs out within two seconds.
      long[] epochOfA = new long[1];
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                OptionalLong won =
                    db.inTransaction(c -> store.takeOver(c, "a", 1, Duration.ofMillis(500)));
                won.ifPresent(e -> epochOfA[0] = e);
                return won.isPresent();
              });
      long a = epochOfA[0];
      OptionalLong early = db.inTransaction(c -> store.takeOver(c, "b", 1, Duration.ofSeconds(30)));
      assertThat(early).as("a's lease still runs").isEmpty();
      long[] epochOfB = new long[1];
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                OptionalLong won =
                    db.inTransaction(c -> store.takeOver(c, "b", 1, Duration.ofSeconds(30)));
                won.ifPresent(e -> epochOfB[0] = e);
                return won.isPresent();
              });

      boolean fenceHeld = db.inTransaction(c -> store.holdFence(c, "a", a));
      OptionalLong renewed = db.inTransaction(c -> store.renew(c, "a", a, Duration.ofSeconds(5)));
      assertThat(fenceHeld).isFalse();
      assertThat(renewed).isEmpty();
      assertThat(epochOfB[0]).isGreaterThan(a);
      db.inTransaction(
          c -> {
            store.resign(c, "b", epochOfB[0]);
            return null;
          });
    }
  }

  private void startCoordinators(TestEnvironment env, int n) throws Exception {
    Path logs = Files.createTempDirectory("sluice-leaders");
    for (int i = 0; i < n; i++) {
      String node = "coordinator-" + System.nanoTime() + "-" + (char) ('a' + i);
      Map<String, String> vars = env.sluiceEnv();
      int port = FaultHarness.freePort();
      ports.put(node, port);
      vars.put("SLUICE_API_TOKENS", TOKEN);
      vars.put("SLUICE_HTTP_PORT", String.valueOf(port));
      vars.put("SLUICE_NODE_ID", node);
      vars.put("SLUICE_LEADER_LEASE", "2s");
      vars.put("SLUICE_SWEEP_INTERVAL", "250ms");
      vars.put("SLUICE_DISPATCH_GRACE", "3s");
      vars.put("SLUICE_COLLECTING_GRACE", "3s");
      coordinators.add(
          ChildJvm.builder("io.sluice.coordinator.CoordinatorMain")
              .name(node)
              .classpath(ChildJvm.currentClasspath())
              .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .env(vars)
              .logFile(logs.resolve(node + ".log"))
              .start());
    }
  }

  private void startWorkers(TestEnvironment env, int n) throws Exception {
    Path logs = Files.createTempDirectory("sluice-leader-workers");
    for (int i = 0; i < n; i++) {
      String id = "worker-" + System.nanoTime() + "-" + i;
      Map<String, String> vars = env.sluiceEnv();
      vars.put("SLUICE_WORKER_ID", id);
      vars.put("SLUICE_HTTP_PORT", String.valueOf(FaultHarness.freePort()));
      vars.put("SLUICE_WORKER_CONCURRENCY", "4");
      vars.put("SLUICE_LEASE_DURATION", "3s");
      vars.put("SLUICE_RETRY_BASE", "100ms");
      workers.add(
          ChildJvm.builder("io.sluice.worker.WorkerMain")
              .name(id)
              .classpath(ChildJvm.currentClasspath())
              .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .env(vars)
              .logFile(logs.resolve(id + ".log"))
              .start());
    }
  }

  private ChildJvm coordinator(String node) {
    return coordinators.stream().filter(c -> c.name().equals(node)).findFirst().orElseThrow();
  }

  private void awaitReady(String node) {
    Awaitility.await(node + " ready")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                send(node, HttpRequest.newBuilder(uri(node, "/health/ready"))).statusCode() == 200);
  }

  private String submit(String node, String body) {
    HttpResponse<String> r =
        send(
            node,
            HttpRequest.newBuilder(uri(node, "/api/v1/jobs"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.read(r.body()).get("id").asText();
  }

  /** Every job SUCCEEDED, its word count exact, each task and the job committed once. */
  private void assertEveryJobCountedExactlyOnce(
      TestEnvironment env, String node, Map<String, String> jobs) throws Exception {
    for (Map.Entry<String, String> e : jobs.entrySet()) {
      JsonNode[] job = new JsonNode[1];
      Awaitility.await("job " + e.getKey() + " terminal")
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(
              () -> {
                job[0] =
                    Json.read(
                        send(
                                node,
                                HttpRequest.newBuilder(uri(node, "/api/v1/jobs/" + e.getKey()))
                                    .header("Authorization", "Bearer " + TOKEN))
                            .body());
                return Set.of("SUCCEEDED", "FAILED", "CANCELLED")
                    .contains(job[0].path("status").asText());
              });
      assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
      assertThat(job[0].path("result").path("totalWords").asLong())
          .as("job %s counted every task exactly once", e.getKey())
          .isEqualTo(FaultHarness.countWords(e.getValue()));
      assertThat(job[0].path("tasksSucceeded").asInt()).isEqualTo(job[0].path("taskCount").asInt());
      try (Connection c = env.connect();
          ResultSet rs =
              c.createStatement()
                  .executeQuery(
                      "SELECT (SELECT count(*) FROM tasks WHERE job_id = '"
                          + e.getKey()
                          + "' AND status = 'SUCCEEDED'),"
                          + " (SELECT count(*) FROM job_events WHERE job_id = '"
                          + e.getKey()
                          + "' AND to_status = 'SUCCEEDED')")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(job[0].path("taskCount").asInt());
        assertThat(rs.getInt(2)).as("collected exactly once").isEqualTo(1);
      }
    }
  }

  /** The coordinator whose log says it started the slow collection of {@code key}, if any. */
  private String collectingNode(String key) throws Exception {
    for (ChildJvm c : coordinators) {
      if (c.isAlive() && Files.readString(c.logFile()).contains("slowcollect: collecting " + key)) {
        return c.name();
      }
    }
    return null;
  }

  private URI uri(String node, String path) {
    return URI.create("http://127.0.0.1:" + ports.get(node) + path);
  }

  private HttpResponse<String> send(String node, HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP to " + node + " failed", e);
    }
  }

  private record Leader(String node, long epoch) {}

  /** The leader among this test's coordinators (an earlier test's may still hold a lease). */
  private Leader awaitLeader(TestEnvironment env, long afterEpoch) {
    Leader[] found = new Leader[1];
    // Generous: child JVMs start slowly on a loaded machine; the failover time is asserted apart.
    Awaitility.await()
        .atMost(Duration.ofSeconds(120))
        .ignoreExceptions()
        .until(
            () -> {
              found[0] = currentLeader(env);
              return found[0] != null
                  && found[0].epoch() > afterEpoch
                  && coordinators.stream().anyMatch(c -> c.name().equals(found[0].node()));
            });
    return found[0];
  }

  private static Leader currentLeader(TestEnvironment env) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT node_id, epoch FROM coordinator_leader WHERE lease_until > now()")) {
      return rs.next() ? new Leader(rs.getString(1), rs.getLong(2)) : null;
    }
  }
}
