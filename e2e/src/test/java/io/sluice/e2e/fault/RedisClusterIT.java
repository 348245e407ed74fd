package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.EmbeddedRedis;
import io.sluice.embedded.ScratchKeys;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * Sluice on a Redis Cluster of the test's own: three masters, a replica of each, on loopback ports;
 * a coordinator and two workers as JVMs configured with {@code redis-cluster://…}. A wordcount job
 * and a pipeline (two wordcount stages joined by merge) run; SIGKILL the master that serves the
 * wordcount job's keys mid-job: its replica is promoted, every client follows the slots to it, the
 * coordinator notices the new master set and rebuilds from PostgreSQL what the failover may have
 * lost, and both jobs finish with every word counted once, one SUCCEEDED row per task and one
 * collection each.
 */
@ExtendWith(SluiceTestExtension.class)
class RedisClusterIT {
  private static final String TOKEN = "cluster-test-token-123";
  private static final int SLOTS = 16384;

  private final List<EmbeddedRedis> servers = new ArrayList<>();
  private final List<ChildJvm> jvms = new ArrayList<>();
  private final ChildApi calls = new ChildApi(TOKEN);

  @AfterEach
  void stopAll() {
    jvms.forEach(ChildJvm::kill);
    servers.forEach(EmbeddedRedis::close);
  }

  @Test
  void aMasterKilledMidJobIsReplacedAndEveryJobCountsEveryWordOnce(TestEnvironment env)
      throws Exception {
    long started = System.nanoTime();
    Path dir = Files.createTempDirectory("sluice-cluster");
    List<EmbeddedRedis> masters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      masters.add(server(EmbeddedRedis.launchClusterNode(0, dir.resolve("master-" + i))));
    }
    List<EmbeddedRedis> replicas = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      replicas.add(server(EmbeddedRedis.launchClusterNode(0, dir.resolve("replica-" + i))));
    }
    formCluster(masters, replicas);

    String url =
        "redis-cluster://"
            + String.join(",", masters.stream().map(m -> "127.0.0.1:" + m.port()).toList());
    int api = FaultHarness.freePort();
    Map<String, String> coordinator = env.sluiceEnv();
    coordinator.put("SLUICE_REDIS_URL", url);
    coordinator.put("SLUICE_API_TOKENS", TOKEN);
    coordinator.put("SLUICE_HTTP_PORT", String.valueOf(api));
    coordinator.put("SLUICE_NODE_ID", "cluster-coordinator-" + System.nanoTime());
    coordinator.put("SLUICE_SWEEP_INTERVAL", "250ms");
    coordinator.put("SLUICE_DISPATCH_GRACE", "3s");
    coordinator.put("SLUICE_LEADER_LEASE", "2s");
    // The default queue over three shards, so its tasks are on several masters (issue 12).
    coordinator.put("SLUICE_QUEUE_SHARDS", "default=3");
    ChildJvm coord =
        jvm("io.sluice.coordinator.CoordinatorMain", "cluster-coordinator", coordinator, dir);
    for (int i = 0; i < 2; i++) {
      Map<String, String> worker = env.sluiceEnv();
      worker.put("SLUICE_REDIS_URL", url);
      worker.put("SLUICE_WORKER_ID", "cluster-worker-" + i + "-" + System.nanoTime());
      worker.put("SLUICE_HTTP_PORT", String.valueOf(FaultHarness.freePort()));
      worker.put("SLUICE_WORKER_CONCURRENCY", "4");
      worker.put("SLUICE_LEASE_DURATION", "3s");
      worker.put("SLUICE_RETRY_BASE", "100ms");
      worker.put("SLUICE_QUEUE_SHARDS", "default=3");
      jvm("io.sluice.worker.WorkerMain", "cluster-worker-" + i, worker, dir);
    }
    String base = "http://127.0.0.1:" + api;
    Awaitility.await("coordinator ready")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> calls.get(base + "/health/ready").statusCode() == 200);

    String text = Corpus.text(600, 4242);
    String id = calls.submit(base, FaultHarness.wordcountBody(text, 10, 60));
    String left = Corpus.text(200, 5151);
    String right = Corpus.text(200, 5252);
    String pipeline = calls.submit(base, pipelineBody(left, right));
    String keyedText = Corpus.text(200, 6161);
    ObjectNode keyedBody = (ObjectNode) Json.read(FaultHarness.wordcountBody(keyedText, 10, 20));
    keyedBody.put("concurrencyKey", "customer-7").put("concurrencyLimit", 2);
    String keyed = calls.submit(base, Json.write(keyedBody));
    Awaitility.await("a third of the tasks done")
        .atMost(Duration.ofSeconds(40))
        .until(() -> calls.job(base, id).path("tasksSucceeded").asInt() >= 20);
    Set<Integer> shardMasters = new HashSet<>();
    for (String tag : List.of("{q:default}", "{q:default@1}", "{q:default@2}")) {
      shardMasters.add(masterOfKey(masters, tag).port());
    }
    assertThat(shardMasters).as("the default queue's three shards on several masters").hasSize(2);
    EmbeddedRedis victim = masterOfKey(masters, "{j:" + id + "}");
    long killedAt = System.nanoTime();
    victim.kill();
    EmbeddedRedis survivor = masters.stream().filter(m -> m != victim).findFirst().orElseThrow();
    Awaitility.await("a replica takes the dead master's slots")
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () ->
                clusterOk(survivor.port()) && !mastersOf(survivor.port()).contains(victim.port()));
    long failoverMs = (System.nanoTime() - killedAt) / 1_000_000;

    assertFinishedOnce(env, base, id, FaultHarness.countWords(text));
    assertFinishedOnce(
        env, base, pipeline, FaultHarness.countWords(left) + FaultHarness.countWords(right));
    assertFinishedOnce(env, base, keyed, FaultHarness.countWords(keyedText));
    String after = Corpus.text(100, 4343);
    String second = calls.submit(base, FaultHarness.wordcountBody(after, 10, 0));
    assertFinishedOnce(env, base, second, FaultHarness.countWords(after));
    assertThat(Files.readString(coord.logFile()))
        .as("the coordinator saw the master set change and rebuilt from PostgreSQL")
        .contains("Redis master moved from")
        .contains("127.0.0.1:" + victim.port());
    // The scratch-key cleanup of tests and benches scans every master of a cluster: the run's keys
    // (in several slots, on several masters) go, another prefix's stay.
    String keep = "keep" + System.nanoTime();
    try (JedisCluster cluster = new JedisCluster(new HostAndPort("127.0.0.1", survivor.port()))) {
      cluster.set(keep + ":a", "1");
      Set<Integer> prefixSlots = new HashSet<>();
      for (String key : List.of(":{q:default}:ready", ":{j:" + id + "}:x", ":{meta}:epoch")) {
        cluster.set(env.redisPrefix() + key + "-probe", "1");
        prefixSlots.add(JedisClusterCRC16.getSlot(env.redisPrefix() + key + "-probe"));
      }
      assertThat(prefixSlots).as("probe keys in several slots").hasSizeGreaterThan(1);
      // Listed first, the dead master: the cleanup asks the next node.
      String deadFirst = "redis-cluster://127.0.0.1:" + victim.port() + "," + url.substring(16);
      assertThat(ScratchKeys.deleteAll(deadFirst, env.redisPrefix())).isGreaterThanOrEqualTo(3);
      for (String key : List.of(":{q:default}:ready", ":{j:" + id + "}:x", ":{meta}:epoch")) {
        assertThat(cluster.exists(env.redisPrefix() + key + "-probe")).as(key).isFalse();
      }
      assertThat(cluster.get(keep + ":a")).isEqualTo("1");
      cluster.del(keep + ":a");
    }
    System.out.printf(
        "RedisClusterIT: failover seen after %d ms, test took %d ms%n",
        failoverMs, (System.nanoTime() - started) / 1_000_000);
  }

  /** Slots split in three, every node introduced to the first, each replica following a master. */
  private static void formCluster(List<EmbeddedRedis> masters, List<EmbeddedRedis> replicas) {
    for (int i = 0; i < masters.size(); i++) {
      int from = SLOTS * i / masters.size();
      int to = SLOTS * (i + 1) / masters.size() - 1;
      try (Jedis jedis = new Jedis("127.0.0.1", masters.get(i).port())) {
        // ADDSLOTS, not ADDSLOTSRANGE: the embedded binary may be a Redis 6.2.
        jedis.clusterAddSlots(IntStream.rangeClosed(from, to).toArray());
      }
    }
    List<EmbeddedRedis> all = new ArrayList<>(masters);
    all.addAll(replicas);
    for (EmbeddedRedis node : all.subList(1, all.size())) {
      try (Jedis jedis = new Jedis("127.0.0.1", node.port())) {
        jedis.clusterMeet("127.0.0.1", masters.get(0).port());
      }
    }
    Awaitility.await("every node knows every other")
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> all.stream().allMatch(n -> knownNodes(n.port()) == all.size()));
    for (int i = 0; i < replicas.size(); i++) {
      String masterId;
      try (Jedis jedis = new Jedis("127.0.0.1", masters.get(i).port())) {
        masterId = jedis.clusterMyId();
      }
      try (Jedis jedis = new Jedis("127.0.0.1", replicas.get(i).port())) {
        jedis.clusterReplicate(masterId);
      }
    }
    Awaitility.await("the cluster is ok and every replica in sync")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                all.stream().allMatch(n -> clusterOk(n.port()))
                    && masters.stream().allMatch(m -> syncedReplicas(m.port()) == 1));
  }

  private static String pipelineBody(String left, String right) {
    ObjectNode body = Json.object().put("maxAttempts", 10);
    ArrayNode stages = body.putArray("stages");
    stages.add(wordcount("left", left)).add(wordcount("right", right));
    ObjectNode merge = Json.object().put("name", "total").put("type", "merge");
    merge.putArray("dependsOn").add("left").add("right");
    stages.add(merge);
    return Json.write(body);
  }

  private static ObjectNode wordcount(String name, String text) {
    ObjectNode stage = Json.object().put("name", name).put("type", "wordcount");
    stage
        .putObject("payload")
        .put("text", text)
        .put("linesPerTask", 10)
        .put("taskDelayMs", 40)
        .put("counts", true);
    return stage;
  }

  private void assertFinishedOnce(TestEnvironment env, String base, String id, long words)
      throws Exception {
    JsonNode[] job = new JsonNode[1];
    Awaitility.await("job " + id + " ends")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () ->
                Set.of("SUCCEEDED", "FAILED", "CANCELLED")
                    .contains((job[0] = calls.job(base, id)).path("status").asText()));
    assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
    JsonNode result = job[0].path("result");
    long total =
        result.has("totalWords")
            ? result.path("totalWords").asLong()
            : result.path("total").path("totalWords").asLong();
    assertThat(total).as("every word counted once: " + result).isEqualTo(words);
    assertThat(job[0].path("tasksSucceeded").asInt()).isEqualTo(job[0].path("taskCount").asInt());
    // A pipeline's tasks belong to its stages, rows of jobs whose parent_id is the pipeline.
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT (SELECT count(*) FROM tasks t JOIN jobs s ON s.id = t.job_id"
                        + " WHERE (s.id = '"
                        + id
                        + "' OR s.parent_id = '"
                        + id
                        + "') AND t.status = 'SUCCEEDED'), (SELECT count(*) FROM job_events WHERE"
                        + " job_id = '"
                        + id
                        + "' AND to_status = 'SUCCEEDED')")) {
      rs.next();
      assertThat(rs.getInt(1))
          .as("one SUCCEEDED row per task")
          .isEqualTo(job[0].path("taskCount").asInt());
      assertThat(rs.getInt(2)).as("collected once").isEqualTo(1);
    }
  }

  private static EmbeddedRedis masterOfKey(List<EmbeddedRedis> masters, String key) {
    int slot = JedisClusterCRC16.getSlot(key);
    return masters.get(Math.min(masters.size() - 1, slot * masters.size() / SLOTS));
  }

  private static int knownNodes(int port) {
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      return (int) jedis.clusterNodes().lines().filter(l -> !l.isBlank()).count();
    }
  }

  private static boolean clusterOk(int port) {
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      return jedis.clusterInfo().contains("cluster_state:ok");
    }
  }

  private static List<Integer> mastersOf(int port) {
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      return jedis
          .clusterNodes()
          .lines()
          .filter(l -> l.contains("master") && !l.contains("fail"))
          .map(l -> Integer.parseInt(l.split(" ")[1].replaceAll(".*:(\\d+)@.*", "$1")))
          .toList();
    }
  }

  private static int syncedReplicas(int port) {
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      String info = jedis.info("replication");
      return (int) info.lines().filter(l -> l.matches("slave\\d+:.*state=online.*")).count();
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
