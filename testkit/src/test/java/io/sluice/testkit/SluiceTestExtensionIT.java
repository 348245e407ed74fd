package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;

/**
 * Runs a small test class through the real JUnit engine and checks what the extension left behind:
 * a database and a key prefix existed while the class ran, and afterwards the database is gone, no
 * key under the prefix remains, and keys outside it are untouched. Once against embedded servers
 * and once against configured URLs (the machine's servers when {@code SLUICE_TEST_*} is set, else
 * the embedded servers' URLs passed as if configured).
 */
class SluiceTestExtensionIT {
  static volatile TestSettings embeddedSettings;
  static volatile TestSettings configuredSettings;
  static final Set<TestEnvironment> SEEN = ConcurrentHashMap.newKeySet();

  @Test
  void embeddedServersGiveEachClassItsOwnDatabaseAndPrefixAndRemoveThem() throws Exception {
    embeddedSettings = TestSettings.fromEnv(Map.of());
    assertThat(embeddedSettings.embeddedRedis()).isTrue();
    assertThat(embeddedSettings.embeddedPostgres()).isTrue();
    runProbeAndCheckCleanup(EmbeddedProbe.class, embeddedSettings);
  }

  @Test
  void configuredServersGiveEachClassItsOwnDatabaseAndPrefixAndRemoveThem() throws Exception {
    TestSettings system = TestSettings.get();
    Map<String, String> env = new HashMap<>();
    env.put(TestSettings.REDIS_URL, system.redisUrl());
    env.put(TestSettings.DATABASE_URL, system.adminJdbcUrl());
    if (!system.embeddedPostgres()) {
      putIfSet(env, TestSettings.DATABASE_USER);
      putIfSet(env, TestSettings.DATABASE_PASSWORD);
    }
    configuredSettings = TestSettings.fromEnv(env);
    assertThat(configuredSettings.embeddedRedis()).isFalse();
    assertThat(configuredSettings.embeddedPostgres()).isFalse();
    runProbeAndCheckCleanup(ConfiguredProbe.class, configuredSettings);
  }

  private static void runProbeAndCheckCleanup(Class<?> probe, TestSettings settings)
      throws Exception {
    SEEN.clear();
    String outsideKey = "sluice_it_outside:" + UUID.randomUUID();
    List<String> databasesBefore = databases(settings);
    try (Jedis jedis = new Jedis(URI.create(settings.redisUrl()))) {
      jedis.set(outsideKey, "must survive");

      Events tests =
          EngineTestKit.engine("junit-jupiter")
              .selectors(selectClass(probe))
              .execute()
              .testEvents();
      assertThat(tests.failed().stream().map(e -> e.getPayload().orElse("?").toString()).toList())
          .as("probe failures")
          .isEmpty();
      assertThat(tests.succeeded().count()).isEqualTo(2);

      assertThat(SEEN).as("one environment per class, shared by its tests").hasSize(1);
      TestEnvironment env = SEEN.iterator().next();
      assertThat(databases(settings))
          .doesNotContain(env.databaseName())
          .containsAll(databasesBefore);
      assertThat(jedis.keys(env.redisPrefix() + ":*")).isEmpty();
      assertThat(jedis.keys("redisson_*:" + env.redisPrefix() + ":*")).isEmpty();
      assertThat(jedis.get(outsideKey)).isEqualTo("must survive");
      assertThat(jedis.get(env.redisPrefix() + "x:lookalike")).isEqualTo("must survive");
      jedis.del(outsideKey, env.redisPrefix() + "x:lookalike");
    }
  }

  private static List<String> databases(TestSettings settings) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = settings.connect(settings.adminDatabase());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT datname FROM pg_database")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  private static void putIfSet(Map<String, String> env, String name) {
    String value = System.getenv(name);
    if (value != null) {
      env.put(name, value);
    }
  }

  /** The tests run by the engine; not discovered on their own (nested and not {@code @Nested}). */
  abstract static class Probe {
    @Test
    void databaseIsFreshAndWritable(TestEnvironment env) throws SQLException {
      SEEN.add(env);
      assertThat(env.databaseName()).matches("sluice_t_[a-z0-9]{12}");
      assertThat(env.sluiceEnv()).containsEntry("SLUICE_DATABASE_URL", env.jdbcUrl());
      try (Connection c = env.connect();
          Statement s = c.createStatement()) {
        try (ResultSet rs = s.executeQuery("SELECT current_database()")) {
          rs.next();
          assertThat(rs.getString(1)).isEqualTo(env.databaseName());
        }
        s.execute("CREATE TABLE probe (v int)");
      }
      // A connection left open, as a pool under test would: dropping must still succeed.
      env.connect();
    }

    @Test
    void prefixIsFreshAndItsKeysAreWritable(TestEnvironment env) {
      SEEN.add(env);
      assertThat(env.redisPrefix()).matches("t[a-z0-9]{12}");
      try (Jedis jedis = new Jedis(URI.create(env.redisUrl()))) {
        assertThat(jedis.keys(env.redisPrefix() + ":*")).isEmpty();
        Pipeline p = jedis.pipelined();
        // More than one SCAN page, and a hash-tagged key as Sluice writes them.
        for (int i = 0; i < 2500; i++) {
          p.set(env.redisPrefix() + ":k" + i, "v");
        }
        p.hset(env.redisPrefix() + ":{j:1}:counted", "1", "1");
        // What Redisson keeps beside the leader lock named under the prefix.
        p.set("redisson_lock_token:" + env.redisPrefix() + ":{leader}", "7");
        p.set(env.redisPrefix() + "x:lookalike", "must survive");
        p.sync();
      }
    }
  }

  static class EmbeddedProbe extends Probe {
    @RegisterExtension
    static SluiceTestExtension extension = new SluiceTestExtension(embeddedSettings);
  }

  static class ConfiguredProbe extends Probe {
    @RegisterExtension
    static SluiceTestExtension extension = new SluiceTestExtension(configuredSettings);
  }
}
