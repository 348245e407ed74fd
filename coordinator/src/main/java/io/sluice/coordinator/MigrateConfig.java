package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.DatabaseTimeouts;
import io.sluice.config.Env;

/**
 * Where {@link MigrateMain} applies the migrations: {@code SLUICE_MIGRATE_DATABASE_URL}, {@code
 * _USER} and {@code _PASSWORD}, each defaulting to its {@code SLUICE_DATABASE_*} counterpart, so
 * the schema's owner can differ from the role coordinators and workers run as.
 *
 * @param database the connection; Flyway holds two at once (its lock and the migration)
 */
public record MigrateConfig(DatabaseConfig database) {

  public MigrateConfig {
    if (database == null) {
      throw new ConfigException("SLUICE_MIGRATE_DATABASE_URL", null, "is needed to migrate");
    }
  }

  public static MigrateConfig fromEnv(Env env) {
    String urlName =
        env.get("SLUICE_MIGRATE_DATABASE_URL") != null
            ? "SLUICE_MIGRATE_DATABASE_URL"
            : "SLUICE_DATABASE_URL";
    String url =
        env.require(
            urlName, "the PostgreSQL JDBC URL to migrate, e.g. jdbc:postgresql://db:5432/sluice");
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new ConfigException(urlName, url, "must be a JDBC URL starting with jdbc:postgresql:");
    }
    return new MigrateConfig(
        new DatabaseConfig(
            url,
            env.get("SLUICE_MIGRATE_DATABASE_USER", env.get("SLUICE_DATABASE_USER")),
            env.get("SLUICE_MIGRATE_DATABASE_PASSWORD", env.get("SLUICE_DATABASE_PASSWORD")),
            2,
            DatabaseTimeouts.fromEnv(env)));
  }
}
