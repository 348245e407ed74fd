package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ClientKillParams;

/**
 * G7: a listener whose Redis connection is killed (CLIENT KILL) is noticed and restarted within
 * seconds, its restart shows in PostgreSQL's listener registry and in metrics, and work flows
 * again.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ListenerRecoveryIT {
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 1, 8);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void aCollectListenerWhoseConnectionIsKilledIsRestartedAndCollectsAgain() throws Exception {
    String node = "coord-" + stack.env.redisPrefix();
    int killed = killClients("sluice-collect-listener-" + node);
    assertThat(killed).isEqualTo(1);

    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> restarts(node, "collect-listener") >= 1 && metric("collect-listener") >= 1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> stack.get("/health/ready").statusCode() == 200);
    assertThat(killClients("sluice-collect-listener-" + node)).as("a new connection").isEqualTo(1);
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> restarts(node, "collect-listener") >= 2);

    var created = stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":50}}");
    String id = Json.read(created.body()).get("id").asText();
    assertThat(stack.awaitTerminal(id, Duration.ofSeconds(30)).get("status").asText())
        .isEqualTo("SUCCEEDED");
  }

  @Test
  void aWorkerWhoseConnectionsAreKilledRestartsItsFetchLoopAndKeepsWorking() throws Exception {
    String worker = "w0-" + stack.env.redisPrefix();
    assertThat(killClients("sluice-worker-" + worker)).as(clientNames()).isPositive();

    Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> restarts(worker, "fetch") >= 1);
    var created = stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":50}}");
    String id = Json.read(created.body()).get("id").asText();
    assertThat(stack.awaitTerminal(id, Duration.ofSeconds(30)).get("status").asText())
        .isEqualTo("SUCCEEDED");
  }

  /** Kills this test's clients with the given name; returns how many. */
  private int killClients(String name) {
    try (Jedis jedis = new Jedis(URI.create(stack.env.redisUrl()))) {
      int killed = 0;
      for (String line : jedis.clientList().split("\n")) {
        if (line.contains(" name=" + name + " ")) {
          String id =
              line.substring(line.indexOf("id=") + 3, line.indexOf(' ', line.indexOf("id=")));
          jedis.clientKill(ClientKillParams.clientKillParams().id(id));
          killed++;
        }
      }
      return killed;
    }
  }

  private String clientNames() {
    try (Jedis jedis = new Jedis(URI.create(stack.env.redisUrl()))) {
      return jedis.clientList();
    }
  }

  private long restarts(String node, String listener) throws Exception {
    try (Connection c = stack.env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT coalesce(max(restarts), 0) FROM listeners WHERE node_id = '"
                        + node
                        + "' AND name = '"
                        + listener
                        + "'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private double metric(String listener) {
    return stack
        .get("/metrics")
        .body()
        .lines()
        .filter(
            l ->
                l.startsWith("sluice_listener_restarts_total")
                    && l.contains("listener=\"" + listener + "\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
