package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.FileTrees;
import io.sluice.embedded.FreePort;
import io.sluice.embedded.ScratchDatabases;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * A coordinator and a worker, as production JVMs configured by environment, reach Redis over TLS
 * ({@code rediss://}) as the ACL user of {@code compose/redis/sluice.acl}, trusting the server's CA
 * through the JVM trust store ({@code -Djavax.net.ssl.trustStore}). The server is Debian's Redis 7
 * (the embedded 6.2 has no TLS), so this also checks the ACL rules on 7.x.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisTlsIT {
  private static final String TOKEN = "tls-test-token-0123456789";

  private final String user = ScratchDatabases.randomName("sluice-", 8);
  private final String password = ScratchDatabases.randomName("pw", 24);
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<ChildJvm> children = new ArrayList<>();
  private TlsRedis redis;
  private Path logs;

  @BeforeAll
  void start(TestEnvironment env) throws Exception {
    String missing = TlsRedis.unavailableBecause();
    Assumptions.assumeTrue(missing == null, () -> "no TLS Redis here: " + missing);
    redis = TlsRedis.start();
    List<String> rules = new ArrayList<>(List.of("reset", "on", ">" + password));
    rules.addAll(RedisAclRules.forPrefix(env.redisPrefix()));
    try (Jedis admin = redis.admin()) {
      admin.aclSetUser(user, rules.toArray(String[]::new));
    }
    logs = Files.createTempDirectory("sluice-tls-it-");
  }

  @AfterAll
  void stop() {
    children.forEach(ChildJvm::close);
    if (redis != null) {
      redis.close();
    }
    FileTrees.deleteTree(logs);
  }

  @Test
  void aCoordinatorAndAWorkerRunAJobOverTlsAsTheAclUser(TestEnvironment env) {
    int apiPort = FreePort.find();
    Map<String, String> common = new LinkedHashMap<>(env.sluiceEnv());
    common.put(
        "SLUICE_REDIS_URL", "rediss://" + user + ":" + password + "@127.0.0.1:" + redis.port());
    common.put("SLUICE_LEADER_LEASE", "2s");
    common.put("SLUICE_SWEEP_INTERVAL", "200ms");
    Map<String, String> coordinator = new LinkedHashMap<>(common);
    coordinator.put("SLUICE_API_TOKENS", "tls:" + TOKEN);
    coordinator.put("SLUICE_HTTP_PORT", Integer.toString(apiPort));
    coordinator.put("SLUICE_NODE_ID", "tls-coordinator-" + env.redisPrefix());
    Map<String, String> worker = new LinkedHashMap<>(common);
    worker.put("SLUICE_HTTP_PORT", Integer.toString(FreePort.find()));
    worker.put("SLUICE_WORKER_ID", "tls-worker-" + env.redisPrefix());
    worker.put("SLUICE_WORKER_CONCURRENCY", "4");
    ChildJvm coordinatorJvm =
        start("io.sluice.coordinator.CoordinatorMain", "coordinator", coordinator);
    start("io.sluice.worker.WorkerMain", "worker", worker);
    String api = "http://127.0.0.1:" + apiPort;

    awaitOrExplain(
        Duration.ofSeconds(40),
        () -> send(HttpRequest.newBuilder(URI.create(api + "/health/ready"))).statusCode() == 200,
        () -> "the coordinator was not ready over TLS; its log:\n" + coordinatorJvm.logTail(30));
    HttpResponse<String> created =
        send(
            HttpRequest.newBuilder(URI.create(api + "/api/v1/jobs"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"wordcount\",\"payload\":{\"text\":\"tls one\\ntwo three"
                            + " four\\nfive\",\"linesPerTask\":1}}")));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.read(created.body()).get("id").asText();

    JsonNode[] job = new JsonNode[1];
    awaitOrExplain(
        Duration.ofSeconds(30),
        () -> {
          job[0] =
              Json.read(
                  send(HttpRequest.newBuilder(URI.create(api + "/api/v1/jobs/" + id))
                          .header("Authorization", "Bearer " + TOKEN))
                      .body());
          return Set.of("SUCCEEDED", "FAILED", "CANCELLED")
              .contains(job[0].path("status").asText());
        },
        () ->
            "job "
                + id
                + " did not end: "
                + job[0]
                + "; ACL log: "
                + RedisAclRules.denials(redis.admin()));

    assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
    assertThat(job[0].path("result").path("totalWords").asInt()).isEqualTo(6);
    assertThat(RedisAclRules.denials(redis.admin())).as("ACL denials over TLS").isEmpty();
    try (Jedis admin = redis.admin()) {
      assertThat(admin.clientList())
          .as("the clients are connected as the ACL user")
          .contains("user=" + user);
    }
  }

  private static void awaitOrExplain(
      Duration timeout, Callable<Boolean> condition, Supplier<String> explanation) {
    try {
      await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(condition);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(explanation.get(), e);
    }
  }

  private ChildJvm start(String mainClass, String name, Map<String, String> env) {
    ChildJvm jvm =
        ChildJvm.builder(mainClass)
            .name(name)
            .classpath(ChildJvm.currentClasspath())
            .jvmArgs(
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Djavax.net.ssl.trustStore=" + redis.trustStore(),
                "-Djavax.net.ssl.trustStorePassword=" + TlsRedis.TRUST_STORE_PASSWORD,
                "-Djavax.net.ssl.trustStoreType=PKCS12")
            .env(env)
            .logFile(logs.resolve(name + ".log"))
            .start();
    children.add(jvm);
    return jvm;
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.build().uri() + " failed", e);
    }
  }
}
