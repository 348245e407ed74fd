package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.embedded.ScratchKeys;
import io.sluice.json.Json;
import io.sluice.redis.RedisKeys;
import io.sluice.store.PostgresQueueStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/**
 * Pausing and resuming a queue (issue 13 item 2) with a real coordinator and two real workers on
 * Redis and PostgreSQL: running tasks finish, no queued task starts while paused (start times are
 * PostgreSQL's {@code tasks.started_at}), the pause survives a coordinator restart and a loss of
 * Redis's data, and it holds against the fetches and claims racing it.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueuePauseIT {
  private static final List<String> QUEUES = List.of("pausable", "durable", "racing", "default");

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Worker> workers = new ArrayList<>();
  private TestEnvironment env;
  private CoordinatorConfig config;
  private Coordinator coordinator;
  private JedisPooled redis;
  private RedisKeys keys;

  @BeforeAll
  void start(TestEnvironment env) {
    this.env = env;
    config = Stack.coordinatorConfig(env);
    coordinator = Coordinator.start(config);
    for (int i = 0; i < 2; i++) {
      workers.add(Worker.start(Stack.workerBuilder(env, "qp" + i, 4).queues(QUEUES).build()));
    }
    redis = new JedisPooled(URI.create(env.redisUrl()));
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  void stop() {
    workers.forEach(Worker::close);
    coordinator.close();
    redis.close();
  }

  @Test
  void pausingAQueueLetsRunningTasksFinishStartsNoQueuedOneStillAcceptsJobsAndResumeRunsThemAll()
      throws Exception {
    UUID held = submit("pausable", "\"tasks\":30,\"hold\":true");
    await().atMost(Duration.ofSeconds(20)).until(() -> ProbeJobType.started(held).size() == 8);

    JsonNode paused = Json.read(control("pausable", "pause", Stack.ADMIN_TOKEN).body());
    Timestamp pausedAt = pgNow();
    assertThat(paused.get("paused").asBoolean()).isTrue();
    assertThat(paused.get("pausedBy").asText()).isEqualTo("ops");
    UUID waiting = submit("pausable", "\"tasks\":5");
    UUID other = submit("default", "\"tasks\":10,\"holdMs\":10");

    ProbeJobType.release(held);
    assertThat(awaitStatus(other)).as("the slots go to other queues").isEqualTo("SUCCEEDED");
    await("the 8 running tasks finish and are acknowledged")
        .atMost(Duration.ofSeconds(20))
        .until(() -> count(held, "status = 'SUCCEEDED'") == 8 && pending("pausable") == 0);
    await("no queued task starts, and no entry is read, while paused")
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(3))
        .until(
            () ->
                count(held, "started_at > ?", pausedAt) == 0
                    && count(waiting, "started_at IS NOT NULL") == 0
                    && pending("pausable") == 0);
    assertThat(ProbeJobType.started(held)).hasSize(8);
    assertThat(count(waiting, "status = 'QUEUED'")).as("a paused queue accepts jobs").isEqualTo(5);
    JsonNode listed = queue("pausable");
    assertThat(listed.get("paused").asBoolean()).isTrue();
    assertThat(listed.get("waiting").asLong()).isEqualTo(22 + 5);
    JsonNode ready = Json.read(get("/health/ready", null).body());
    assertThat(ready.get("status").asText()).as("paused is not unready").isEqualTo("UP");
    assertThat(ready.get("pausedQueues")).extracting(JsonNode::asText).containsExactly("pausable");
    assertThat(get("/metrics", null).body())
        .contains("sluice_queue_paused{queue=\"pausable\"} 1.0");

    control("pausable", "resume", Stack.ADMIN_TOKEN);
    assertThat(awaitStatus(held)).isEqualTo("SUCCEEDED");
    assertThat(awaitStatus(waiting)).isEqualTo("SUCCEEDED");
    assertThat(count(held, "status = 'SUCCEEDED' AND attempt = 1")).isEqualTo(30);
    assertThat(count(waiting, "status = 'SUCCEEDED' AND attempt = 1")).isEqualTo(5);
    assertThat(ProbeJobType.started(held)).hasSize(30);
    assertThat(queue("pausable").get("paused").asBoolean()).isFalse();
    assertThat(get("/metrics", null).body())
        .contains("sluice_queue_paused{queue=\"pausable\"} 0.0");
  }

  @Test
  void aPauseSurvivesACoordinatorRestartAndALossOfRedisData() throws Exception {
    control("durable", "pause", Stack.ADMIN_TOKEN);
    UUID job = submit("durable", "\"tasks\":10");
    await().atMost(Duration.ofSeconds(10)).until(() -> readyEntries("durable") == 10);

    coordinator.close();
    coordinator = Coordinator.start(config);
    assertThat(queue("durable").get("paused").asBoolean()).as("after the restart").isTrue();
    assertThat(Json.read(get("/health/ready", null).body()).get("pausedQueues").toString())
        .contains("durable");
    assertNothingStarts(job);

    ScratchKeys.deleteAll(env.redisUrl(), env.redisPrefix());
    await("the rebuild re-appends the paused queue's tasks")
        .atMost(Duration.ofSeconds(20))
        .until(() -> readyEntries("durable") == 10);
    assertThat(redis.hget(keys.queueControl("durable"), "paused"))
        .as("the rebuild restored the pause from PostgreSQL")
        .isEqualTo("1");
    assertNothingStarts(job);

    control("durable", "resume", Stack.ADMIN_TOKEN);
    assertThat(awaitStatus(job)).isEqualTo("SUCCEEDED");
    assertThat(count(job, "status = 'SUCCEEDED' AND attempt = 1")).isEqualTo(10);
  }

  @Test
  void noTaskStartsAfterAPauseCommittedWhileManyFetchesAndClaimsRaceIt() throws Exception {
    int tasks = 800;
    UUID job = submit("racing", "\"tasks\":" + tasks + ",\"holdMs\":2");
    for (int round = 0; round < 5; round++) {
      long before = count(job, "started_at IS NOT NULL");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> count(job, "started_at IS NOT NULL") > before + 40);
      control("racing", "pause", Stack.ADMIN_TOKEN);
      Timestamp committed = pgNow();
      await("round " + round + ": no start after the pause committed")
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(3))
          .until(() -> count(job, "started_at > ?", committed) == 0);
      control("racing", "resume", Stack.ADMIN_TOKEN);
    }
    assertThat(awaitStatus(job)).isEqualTo("SUCCEEDED");
    assertThat(count(job, "status = 'SUCCEEDED' AND attempt = 1"))
        .as("every task ran once: entries handed back spend no attempt")
        .isEqualTo(tasks);
  }

  @Test
  void aClaimAfterThePauseCommittedRefusesTheTaskThoughItsEntryWasReadBeforeAndItIsHandedBack()
      throws Exception {
    UUID job = submit("unserved", "\"tasks\":3");
    await().atMost(Duration.ofSeconds(10)).until(() -> readyEntries("unserved") == 3);
    List<TaskRef> refs = List.of(new TaskRef(job, 0), new TaskRef(job, 1), new TaskRef(job, 2));
    control("unserved", "pause", Stack.ADMIN_TOKEN);
    PostgresTaskStore tasks = new PostgresTaskStore();
    try (Connection c = env.connect()) {
      assertThat(tasks.claim(c, "late-reader", Duration.ofSeconds(10), refs))
          .as("the claim itself checks the pause")
          .isEmpty();
      assertThat(new PostgresQueueStore().heldByPause(c, refs))
          .as("so the worker hands those entries back")
          .containsExactlyElementsOf(refs);
    }
    control("unserved", "resume", Stack.ADMIN_TOKEN);
    try (Connection c = env.connect()) {
      assertThat(new PostgresQueueStore().heldByPause(c, refs)).isEmpty();
      assertThat(tasks.claim(c, "late-reader", Duration.ofSeconds(10), refs)).hasSize(3);
    }
  }

  @Test
  void concurrentPausesAndResumesLeaveRedisWithTheStateOfTheNewestPostgresRow() throws Exception {
    for (int round = 0; round < 10; round++) {
      List<HttpResponse<String>> answers =
          JobApiSemanticsIT.concurrently(
              24,
              () ->
                  control(
                      "flapping",
                      ThreadLocalRandom.current().nextBoolean() ? "pause" : "resume",
                      Stack.ADMIN_TOKEN));
      assertThat(answers).extracting(HttpResponse::statusCode).containsOnly(200);
      Map<String, String> copy = redis.hgetAll(keys.queueControl("flapping"));
      try (Connection c = env.connect();
          PreparedStatement ps =
              c.prepareStatement("SELECT paused, version FROM queues WHERE name = 'flapping'");
          ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(copy.get("version")).as("round %d", round).isEqualTo(rs.getString("version"));
        assertThat(copy.get("paused")).isEqualTo(rs.getBoolean("paused") ? "1" : "0");
      }
    }
  }

  @Test
  void pauseAndResumeNeedAnAdminTokenAndRefuseABadQueueNameChangingNothing() throws Exception {
    HttpResponse<String> none = control("guarded", "pause", null);
    assertThat(none.statusCode()).isEqualTo(401);
    HttpResponse<String> tenant = control("guarded", "pause", Stack.TOKEN);
    assertThat(tenant.statusCode()).isEqualTo(403);
    assertThat(Json.read(tenant.body()).get("error").asText())
        .isEqualTo(
            "pausing a queue needs an admin token (SLUICE_ADMIN_TOKENS); this token is tenant"
                + " tenant-a's");
    assertThat(control("guarded", "resume", Stack.TOKEN).statusCode()).isEqualTo(403);
    HttpResponse<String> bad = control("bad!name", "pause", Stack.ADMIN_TOKEN);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(Json.read(bad.body()).get("field").asText()).isEqualTo("queue");
    assertThat(scalar("SELECT count(*) FROM queues WHERE name IN ('guarded', 'bad!name')"))
        .as("nothing changed")
        .isZero();
    assertThat(redis.exists(keys.queueControl("guarded"))).isFalse();
    assertThat(get("/api/v1/queues", Stack.TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/api/v1/queues", null).statusCode()).isEqualTo(401);
  }

  private void assertNothingStarts(UUID job) {
    await("no task of the paused queue starts")
        .during(Duration.ofMillis(1200))
        .atMost(Duration.ofSeconds(3))
        .until(() -> count(job, "started_at IS NOT NULL") == 0);
  }

  private UUID submit(String queue, String payload) {
    String body = "{\"type\":\"probe\",\"queue\":\"" + queue + "\",\"payload\":{" + payload + "}}";
    HttpResponse<String> answer =
        send(
            request("/api/v1/jobs", Stack.TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json"));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    return UUID.fromString(Json.read(answer.body()).get("id").asText());
  }

  private HttpResponse<String> control(String queue, String verb, String token) {
    return send(
        request("/api/v1/queues/" + queue + "/" + verb, token)
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  private HttpResponse<String> get(String path, String token) {
    return send(request(path, token).GET());
  }

  private JsonNode queue(String name) {
    for (JsonNode q : Json.read(get("/api/v1/queues", Stack.ADMIN_TOKEN).body()).get("items")) {
      if (q.get("name").asText().equals(name)) {
        return q;
      }
    }
    throw new AssertionError("queue " + name + " is not listed");
  }

  private long pending(String name) {
    return queue(name).path("pending").asLong();
  }

  private long readyEntries(String queue) {
    String stream = keys.readyStream(queue);
    return redis.exists(stream) ? redis.xlen(stream) : 0;
  }

  private String awaitStatus(UUID job) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> List.of("SUCCEEDED", "FAILED", "CANCELLED").contains(status(job)));
    return status(job);
  }

  private String status(UUID job) {
    return Json.read(get("/api/v1/jobs/" + job, Stack.ADMIN_TOKEN).body()).get("status").asText();
  }

  private HttpRequest.Builder request(String path, String token) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + coordinator.port() + path));
    return token == null ? b : b.header("Authorization", "Bearer " + token);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** PostgreSQL's clock now, read after the call it follows returned. */
  private Timestamp pgNow() throws Exception {
    try (Connection c = env.connect();
        PreparedStatement ps = c.prepareStatement("SELECT clock_timestamp()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getTimestamp(1);
    }
  }

  private long count(UUID job, String where, Object... args) throws Exception {
    Object[] all = new Object[args.length + 1];
    all[0] = job;
    System.arraycopy(args, 0, all, 1, args.length);
    return scalar("SELECT count(*) FROM tasks WHERE job_id = ? AND " + where, all);
  }

  private long scalar(String sql, Object... args) {
    return JobApi.count(env, sql, args);
  }
}
