package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConcurrencyLimits;
import io.sluice.embedded.EmbeddedRedis;
import io.sluice.embedded.ScratchDatabases;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A coordinator and a worker connect as a Redis ACL user holding only the rules of {@code
 * compose/redis/sluice.acl}: Sluice's key prefix, its channels, and the commands it uses. The Redis
 * is this test's own (the embedded 6.2 server), so creating a user touches nothing shared.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisAclUserIT {
  private final String user = ScratchDatabases.randomName("sluice-", 8);
  private final String password = ScratchDatabases.randomName("pw", 24);
  private EmbeddedRedis redis;
  private TestEnvironment limited;

  @BeforeAll
  void start(TestEnvironment env) {
    redis = EmbeddedRedis.launch();
    List<String> rules = new ArrayList<>(List.of("reset", "on", ">" + password));
    rules.addAll(RedisAclRules.forPrefix(env.redisPrefix()));
    try (Jedis admin = admin()) {
      admin.aclSetUser(user, rules.toArray(String[]::new));
    }
    limited =
        new TestEnvironment(
            env.jdbcUrl(),
            env.dbUser(),
            env.dbPassword(),
            "redis://" + user + ":" + password + "@127.0.0.1:" + redis.port(),
            env.redisPrefix(),
            env.databaseName());
  }

  @AfterAll
  void stop() {
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void aCoordinatorAndWorkerRunJobsToCompletionAsTheAclUserWithNothingRefused() {
    try (Jedis admin = admin()) {
      admin.aclLogReset();
    }
    try (Stack stack = new Stack(limited, 0, 4)) {
      // Concurrency limits and a retry take the worker through every script it has.
      stack.workers.add(
          Worker.start(
              Stack.workerBuilder(limited, "acl", 4)
                  .concurrencyLimits(
                      new ConcurrencyLimits(Map.of("default", 3), Map.of("flaky", 2)))
                  .build()));
      String words =
          submit(
              stack,
              "{\"type\":\"wordcount\",\"payload\":{\"text\":\"a b\\nc d e\\nf\",\"linesPerTask\":1}}");
      String flaky =
          submit(
              stack,
              "{\"type\":\"flaky\",\"payload\":{\"tasks\":6,\"failSeq\":2,\"failTimes\":1}}");

      JsonNode counted = awaitTerminal(stack, words);
      JsonNode retried = awaitTerminal(stack, flaky);

      assertThat(counted.path("status").asText()).as(counted.toString()).isEqualTo("SUCCEEDED");
      assertThat(counted.path("result").path("totalWords").asInt()).isEqualTo(6);
      assertThat(retried.path("status").asText()).as(retried.toString()).isEqualTo("SUCCEEDED");
      assertThat(retried.path("tasksSucceeded").asInt()).isEqualTo(6);
      // The queues view reads XLEN, XPENDING and XRANGE.
      var queues = stack.get("/api/v1/queues");
      assertThat(queues.statusCode()).as(queues.body()).isEqualTo(200);
      assertThat(queues.body()).contains("default");
    }
    assertThat(RedisAclRules.denials(admin())).as("ACL denials while Sluice ran").isEmpty();
  }

  @Test
  void theAclUserIsRefusedOtherKeysOtherChannelsAndDangerousCommands() {
    String prefix = limited.redisPrefix();
    try (Jedis jedis =
        new Jedis(
            new HostAndPort("127.0.0.1", redis.port()),
            DefaultJedisClientConfig.builder().user(user).password(password).build())) {
      assertThat(jedis.set(prefix + ":probe", "1")).isEqualTo("OK");
      assertThat(jedis.del(prefix + ":probe")).isEqualTo(1);

      assertThatThrownBy(() -> jedis.get("other-app:secret")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.set("sluicex:probe", "1")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.publish("other-app:events", "x"))
          .hasMessageContaining("NOPERM");
      assertThatThrownBy(jedis::flushAll).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.keys("*")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.configGet("requirepass")).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.aclList()).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> jedis.eval("return redis.call('get', KEYS[1])", 1, "other-app:k"))
          .hasMessageContaining("NOPERM");
    }
  }

  private static String submit(Stack stack, String body) {
    var created = stack.submit(body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).get("id").asText();
  }

  /** A job that never ends here most likely met a refusal: the failure shows the ACL log. */
  private JsonNode awaitTerminal(Stack stack, String id) {
    try {
      return stack.awaitTerminal(id, Duration.ofSeconds(20));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; ACL log: " + RedisAclRules.denials(admin()), e);
    }
  }

  private Jedis admin() {
    return new Jedis("127.0.0.1", redis.port());
  }
}
