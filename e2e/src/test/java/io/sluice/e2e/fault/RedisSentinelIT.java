package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.EmbeddedRedis;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * Sluice on Redis Sentinel: a master, two replicas and three sentinels of the test's own on
 * loopback ports; a coordinator and two workers as JVMs configured with {@code
 * redis-sentinel://…/mymaster}. SIGKILL the master mid-job: the sentinels promote a replica, every
 * client follows it, the coordinator notices the move and rebuilds from PostgreSQL what the
 * failover may have lost, and the job finishes with every word counted once.
 */
@ExtendWith(SluiceTestExtension.class)
class RedisSentinelIT {
  private static final String TOKEN = "sentinel-test-token-12";
  private static final String MASTER = "mymaster";

  private final List<EmbeddedRedis> servers = new ArrayList<>();
  private final List<ChildJvm> jvms = new ArrayList<>();
  private final ChildApi calls = new ChildApi(TOKEN);

  @AfterEach
  void stopAll() {
    jvms.forEach(ChildJvm::kill);
    servers.forEach(EmbeddedRedis::close);
  }

  @Test
  void aMasterKilledMidJobIsReplacedAndTheJobCountsEveryWordOnce(TestEnvironment env)
      throws Exception {
    Path dir = Files.createTempDirectory("sluice-sentinel");
    EmbeddedRedis master = server(EmbeddedRedis.launch(0, dir.resolve("master")));
    for (int i = 0; i < 2; i++) {
      server(EmbeddedRedis.launchReplica(0, dir.resolve("replica-" + i), master.port()));
    }
    List<Integer> sentinels = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      sentinels.add(
          server(
                  EmbeddedRedis.launchSentinel(
                      0, dir.resolve("sentinel-" + i), MASTER, master.port(), 2))
              .port());
    }
    Awaitility.await("the replicas are in sync and every sentinel knows them")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                syncedReplicas(master.port()) == 2
                    && sentinels.stream().allMatch(s -> knownReplicas(s) == 2));

    String url =
        "redis-sentinel://"
            + String.join(",", sentinels.stream().map(p -> "127.0.0.1:" + p).toList())
            + "/"
            + MASTER;
    int api = FaultHarness.freePort();
    Map<String, String> coordinator = env.sluiceEnv();
    coordinator.put("SLUICE_REDIS_URL", url);
    coordinator.put("SLUICE_API_TOKENS", TOKEN);
    coordinator.put("SLUICE_HTTP_PORT", String.valueOf(api));
    coordinator.put("SLUICE_NODE_ID", "sentinel-coordinator-" + System.nanoTime());
    coordinator.put("SLUICE_SWEEP_INTERVAL", "250ms");
    coordinator.put("SLUICE_DISPATCH_GRACE", "3s");
    coordinator.put("SLUICE_LEADER_LEASE", "2s");
    ChildJvm coord =
        jvm("io.sluice.coordinator.CoordinatorMain", "sentinel-coordinator", coordinator, dir);
    for (int i = 0; i < 2; i++) {
      Map<String, String> worker = env.sluiceEnv();
      worker.put("SLUICE_REDIS_URL", url);
      worker.put("SLUICE_WORKER_ID", "sentinel-worker-" + i + "-" + System.nanoTime());
      worker.put("SLUICE_HTTP_PORT", String.valueOf(FaultHarness.freePort()));
      worker.put("SLUICE_WORKER_CONCURRENCY", "4");
      worker.put("SLUICE_LEASE_DURATION", "3s");
      worker.put("SLUICE_RETRY_BASE", "100ms");
      jvm("io.sluice.worker.WorkerMain", "sentinel-worker-" + i, worker, dir);
    }
    String base = "http://127.0.0.1:" + api;
    Awaitility.await("coordinator ready")
        .atMost(Duration.ofSeconds(90))
        .ignoreExceptions()
        .until(() -> calls.get(base + "/health/ready").statusCode() == 200);

    String text = Corpus.text(600, 4242);
    String id = calls.submit(base, FaultHarness.wordcountBody(text, 10, 60));
    Awaitility.await("a third of the tasks done")
        .atMost(Duration.ofSeconds(60))
        .until(() -> calls.job(base, id).path("tasksSucceeded").asInt() >= 20);
    master.kill();
    Awaitility.await("the sentinels promote a replica")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> masterPort(sentinels.get(0)) != master.port());

    assertFinishedOnce(env, base, id, text);
    String after = Corpus.text(100, 4343);
    String second = calls.submit(base, FaultHarness.wordcountBody(after, 10, 0));
    assertFinishedOnce(env, base, second, after);
    assertThat(Files.readString(coord.logFile()))
        .as("the coordinator saw the master move and rebuilt from PostgreSQL")
        .contains("Redis master moved from 127.0.0.1:" + master.port());
  }

  private void assertFinishedOnce(TestEnvironment env, String base, String id, String text)
      throws Exception {
    JsonNode[] job = new JsonNode[1];
    Awaitility.await("job " + id + " ends")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () ->
                Set.of("SUCCEEDED", "FAILED", "CANCELLED")
                    .contains((job[0] = calls.job(base, id)).path("status").asText()));
    assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
    assertThat(job[0].at("/result/totalWords").asLong())
        .as("every word counted once")
        .isEqualTo(FaultHarness.countWords(text));
    assertThat(job[0].path("tasksSucceeded").asInt()).isEqualTo(job[0].path("taskCount").asInt());
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT (SELECT count(*) FROM tasks WHERE job_id = '"
                        + id
                        + "' AND status = 'SUCCEEDED'), (SELECT count(*) FROM job_events WHERE job_id = '"
                        + id
                        + "' AND to_status = 'SUCCEEDED')")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(job[0].path("taskCount").asInt());
      assertThat(rs.getInt(2)).as("collected once").isEqualTo(1);
    }
  }

  private static int syncedReplicas(int port) {
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      String info = jedis.info("replication");
      return (int) info.lines().filter(l -> l.matches("slave\\d+:.*state=online.*")).count();
    }
  }

  private static int knownReplicas(int sentinelPort) {
    try (Jedis jedis = new Jedis("127.0.0.1", sentinelPort)) {
      return jedis.sentinelReplicas(MASTER).size();
    }
  }

  private static int masterPort(int sentinelPort) {
    try (Jedis jedis = new Jedis("127.0.0.1", sentinelPort)) {
      return Integer.parseInt(jedis.sentinelGetMasterAddrByName(MASTER).get(1));
    }
  }

  private EmbeddedRedis server(EmbeddedRedis server) {
    servers.add(server);
    return server;
  }

  private ChildJvm jvm(String main, String name, Map<String, String> vars, Path dir)
      throws Exception {
    ChildJvm jvm = ChildApi.start(main, name, vars, dir);
    jvms.add(jvm);
    return jvm;
  }
}
