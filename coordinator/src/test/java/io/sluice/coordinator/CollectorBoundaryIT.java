package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.RepairFixture.Row;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.store.Database;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The collector boundary: what a collector throws, an {@link Error} included, fails its job after a
 * bounded number of attempts without harming the listener; a collector slower than the listener's 5
 * s watchdog is neither interrupted nor taken over. Collections here come only from the collect
 * signal (the sweeper's collect repair waits 30 minutes), so the trigger path is what is tested.
 */
@ExtendWith(SluiceTestExtension.class)
class CollectorBoundaryIT {
  private static Database db;
  private static LettuceCoordination redis;

  @BeforeAll
  static void connect(TestEnvironment env) {
    db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2), "fixture");
    db.migrate();
    redis = new LettuceCoordination(RedisConfig.parse(env.redisUrl(), env.redisPrefix()));
    redis.setMarker(RedisRebuild.MARKER);
  }

  @AfterAll
  static void close() {
    redis.close();
    db.close();
  }

  @Test
  void aCollectorThatOverflowsItsStackFailsTheJobAfterItsAttemptsAndTheListenerLivesOn(
      TestEnvironment env) throws Exception {
    CoordinatorConfig config =
        RepairFixture.config(env).collect(CollectLimits.DEFAULT.withAttempts(3)).build();
    try (Coordinator coordinator = Coordinator.start(config)) {
      UUID poison = finishedJob(env, "trap", "\"collector\": \"stack-overflow\"");
      redis.signalCollect(poison);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> "FAILED".equals(RepairFixture.status(env, poison)));
      assertThat(RepairFixture.string(env, "SELECT error FROM jobs WHERE id = ?", poison))
          .contains("collector failed after 3 attempts")
          .contains("StackOverflowError");
      assertThat(TrapJobType.runs(poison.toString())).isEqualTo(3);
      assertThat(
              RepairFixture.string(env, "SELECT collect_attempts FROM jobs WHERE id = ?", poison))
          .isEqualTo("3");

      // The listener that handed the poison on still collects the next job.
      UUID next = finishedJob(env, "counting", "\"plain\": true");
      redis.signalCollect(next);
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> "SUCCEEDED".equals(RepairFixture.status(env, next)));
      assertThat(CountingJobType.runs(next.toString())).isEqualTo(1);
      assertThat(ready(coordinator)).as("readiness: every loop alive").isEqualTo(200);
      Awaitility.await("the loops' heartbeat rows")
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(
                          RepairFixture.string(
                              env,
                              "SELECT string_agg(name || '=' || state || '/' || restarts, ',')"
                                  + " FROM listeners WHERE node_id = ?",
                              config.nodeId()))
                      .as("no loop died or was restarted")
                      .contains("collect-listener=UP/0")
                      .contains("sweeper=UP/0"));
    }
  }

  @Test
  void aCollectorSlowerThanTheListenersWatchdogSucceedsOnceAndRunsOnce(TestEnvironment env)
      throws Exception {
    try (Coordinator coordinator =
        Coordinator.start(
            RepairFixture.config(env)
                // A collection that stopped heartbeating for 2 s is taken over: this one must not
                // be.
                .collectingGrace(Duration.ofSeconds(2))
                .build())) {
      UUID slow = finishedJob(env, "trap", "\"collector\": \"slow\", \"slowMs\": 7000");
      redis.signalCollect(slow);
      Awaitility.await()
          .atMost(Duration.ofSeconds(40))
          .until(
              () ->
                  !"RUNNING".equals(RepairFixture.status(env, slow))
                      && !"COLLECTING".equals(RepairFixture.status(env, slow)));
      assertThat(RepairFixture.status(env, slow)).isEqualTo("SUCCEEDED");
      assertThat(TrapJobType.runs(slow.toString())).isEqualTo(1);
      assertThat(RepairFixture.string(env, "SELECT result::text FROM jobs WHERE id = ?", slow))
          .contains("\"runs\": 1");
    }
  }

  /** A RUNNING job of {@code type} whose tasks all succeeded, its fan-in at zero. */
  private static UUID finishedJob(TestEnvironment env, String type, String payloadFields)
      throws Exception {
    UUID id;
    try (Connection c = env.connect()) {
      id =
          RepairFixture.insert(
              c,
              new Row(
                  type,
                  "default",
                  "RUNNING",
                  "{\"tasks\": 2, \"key\": \"$ID\", " + payloadFields + "}",
                  2,
                  "SUCCEEDED",
                  Duration.ZERO,
                  null));
    }
    redis.initFanIn(id, 0);
    return id;
  }

  private static int ready(Coordinator coordinator) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + coordinator.port() + "/health/ready"))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
