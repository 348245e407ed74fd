package io.sluice.testkit;

import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.EmbeddedRedis;

/**
 * The embedded servers shared by every test class of one JVM. Each starts on first use; both stop
 * when the JVM exits (their own shutdown hooks). Holder classes keep the two independent, so a run
 * with only Redis configured never starts an embedded Redis.
 */
final class EmbeddedServers {
  private EmbeddedServers() {}

  static EmbeddedRedis redis() {
    return RedisHolder.REDIS;
  }

  static EmbeddedPostgres postgres() {
    return PostgresHolder.POSTGRES;
  }

  private static final class RedisHolder {
    static final EmbeddedRedis REDIS = EmbeddedRedis.launch();
  }

  private static final class PostgresHolder {
    static final EmbeddedPostgres POSTGRES = EmbeddedPostgres.launch();
  }
}
