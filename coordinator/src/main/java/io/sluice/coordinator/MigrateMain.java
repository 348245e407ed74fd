package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import io.sluice.config.Redact;
import io.sluice.store.Database;
import java.io.PrintStream;

/**
 * {@code ./sluice migrate}: applies the Flyway migrations and exits, so that coordinators can run
 * as a role without DDL rights ({@code SLUICE_MIGRATE=false}). Configured by {@link
 * MigrateConfig#fromEnv}. Exit codes: 0 the schema is current, 1 a migration failed, 2 a setting is
 * missing or wrong.
 */
public final class MigrateMain {
  private MigrateMain() {}

  public static void main(String[] args) {
    System.exit(run(Env.system(), System.out, System.err));
  }

  /**
   * Migrates the database that {@code env} names.
   *
   * @param env the variables to read
   * @param out where the outcome is printed
   * @param err where failures are printed
   * @return the exit code: 0 current, 1 a migration failed, 2 a setting is missing or wrong
   */
  public static int run(Env env, PrintStream out, PrintStream err) {
    MigrateConfig config;
    try {
      config = MigrateConfig.fromEnv(env);
    } catch (ConfigException e) {
      err.println("sluice migrate: configuration error: " + e.getMessage());
      return 2;
    }
    try (Database db = new Database(config.database(), "sluice-migrate")) {
      db.migrate();
      String version = db.requireSchemaCurrent();
      out.println(
          "sluice migrate: " + config.database().maskedUrl() + " is at schema version " + version);
      return 0;
    } catch (RuntimeException e) {
      err.println("sluice migrate: failed: " + Redact.messages(e));
      return 1;
    }
  }
}
