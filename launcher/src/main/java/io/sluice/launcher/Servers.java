package io.sluice.launcher;

import io.sluice.config.Redact;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.EmbeddedRedis;
import io.sluice.embedded.JdbcUrls;
import io.sluice.embedded.ScratchDatabases;
import io.sluice.embedded.ScratchKeys;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Redis and PostgreSQL a local stack runs against: embedded servers that live as long as this
 * object, or servers given by {@code SLUICE_REDIS_URL}/{@code SLUICE_DATABASE_URL} in which this
 * object creates a fresh database and key prefix and removes both on {@link #close()}, touching
 * nothing else.
 */
final class Servers implements AutoCloseable {
  private final EmbeddedRedis redis;
  private final EmbeddedPostgres postgres;
  private final Map<String, String> env;
  private final Runnable cleanup;
  private final String description;

  private Servers(
      EmbeddedRedis redis,
      EmbeddedPostgres postgres,
      Map<String, String> env,
      Runnable cleanup,
      String description) {
    this.redis = redis;
    this.postgres = postgres;
    this.env = env;
    this.cleanup = cleanup;
    this.description = description;
  }

  /**
   * Starts embedded Redis and PostgreSQL with their files under {@code dir}, and a database
   * "sluice".
   */
  static Servers embedded(Path dir, String prefix) {
    return embedded(dir, prefix, false);
  }

  /**
   * As {@link #embedded(Path, String)}; with {@code statementStats} PostgreSQL preloads {@code
   * pg_stat_statements} (set with ALTER SYSTEM, then a restart), for the bench's counters.
   */
  static Servers embedded(Path dir, String prefix, boolean statementStats) {
    EmbeddedRedis redis = null;
    EmbeddedPostgres postgres = null;
    try {
      redis = EmbeddedRedis.launch(0, dir.resolve("redis"));
      postgres = EmbeddedPostgres.launch(0, dir.resolve("postgres"));
      if (statementStats) {
        preloadStatementStats(postgres);
      }
      postgres.createDatabase("sluice");
      Map<String, String> env = new LinkedHashMap<>();
      env.put("SLUICE_REDIS_URL", redis.url());
      env.put("SLUICE_REDIS_PREFIX", prefix);
      env.put("SLUICE_DATABASE_URL", postgres.jdbcUrl("sluice"));
      env.put("SLUICE_DATABASE_USER", postgres.user());
      String description =
          "embedded Redis " + redis.url() + ", embedded PostgreSQL " + postgres.jdbcUrl("sluice");
      return new Servers(redis, postgres, env, () -> {}, description);
    } catch (RuntimeException e) {
      if (postgres != null) {
        postgres.close();
      }
      if (redis != null) {
        redis.close();
      }
      throw e;
    }
  }

  private static void preloadStatementStats(EmbeddedPostgres postgres) {
    try (Connection c = postgres.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    } catch (SQLException e) {
      throw new IllegalStateException("could not preload pg_stat_statements: " + e.getMessage(), e);
    }
    postgres.restart();
  }

  /**
   * Uses the servers named by the environment, in a new database {@code <dbPrefix><random>} and a
   * new key prefix {@code <keyPrefix><random>}.
   */
  static Servers external(Map<String, String> vars, String dbPrefix, String keyPrefix) {
    String redisUrl = vars.get("SLUICE_REDIS_URL");
    String adminUrl = vars.get("SLUICE_DATABASE_URL");
    String user = vars.get("SLUICE_DATABASE_USER");
    String password = vars.get("SLUICE_DATABASE_PASSWORD");
    if (!adminUrl.startsWith("jdbc:postgresql:")) {
      throw LauncherException.usage(
          "SLUICE_DATABASE_URL="
              + JdbcUrls.masked(adminUrl)
              + " must be a JDBC URL like jdbc:postgresql://host:5432/postgres, with the user and"
              + " password in SLUICE_DATABASE_USER and SLUICE_DATABASE_PASSWORD");
    }
    String database = ScratchDatabases.randomName(dbPrefix, 10);
    String prefix = ScratchDatabases.randomName(keyPrefix, 10);
    ScratchDatabases.ConnectionSource admin = ScratchDatabases.at(adminUrl, user, password);
    ScratchDatabases.create(admin, database);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SLUICE_REDIS_URL", redisUrl);
    env.put("SLUICE_REDIS_PREFIX", prefix);
    env.put("SLUICE_DATABASE_URL", JdbcUrls.withDatabase(adminUrl, database));
    if (user != null) {
      env.put("SLUICE_DATABASE_USER", user);
    }
    if (password != null) {
      env.put("SLUICE_DATABASE_PASSWORD", password);
    }
    Runnable cleanup =
        () -> {
          try {
            ScratchKeys.deleteAll(redisUrl, prefix);
          } finally {
            ScratchDatabases.drop(admin, database);
          }
        };
    String description =
        "Redis "
            + Redact.text(redisUrl)
            + " (prefix "
            + prefix
            + "), PostgreSQL database "
            + database
            + " on "
            + JdbcUrls.masked(adminUrl);
    return new Servers(null, null, env, cleanup, description);
  }

  /** Whether the environment names both servers, so that {@link #external} applies. */
  static boolean configured(Map<String, String> vars) {
    return notBlank(vars.get("SLUICE_REDIS_URL")) && notBlank(vars.get("SLUICE_DATABASE_URL"));
  }

  /** Whether these are the embedded servers, which nothing else uses. */
  boolean embedded() {
    return postgres != null;
  }

  /** The variables that point a coordinator or worker at these servers. */
  Map<String, String> env() {
    return env;
  }

  String description() {
    return description;
  }

  @Override
  public void close() {
    try {
      cleanup.run();
    } finally {
      try {
        if (postgres != null) {
          postgres.close();
        }
      } finally {
        if (redis != null) {
          redis.close();
        }
      }
    }
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }
}
