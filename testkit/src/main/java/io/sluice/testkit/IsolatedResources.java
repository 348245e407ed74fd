package io.sluice.testkit;

import io.sluice.embedded.ScratchDatabases;
import io.sluice.embedded.ScratchKeys;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Creates and removes the database and key prefix of one test class. It only ever drops the
 * database it created and deletes keys under the prefix it made up, so it is safe against a shared
 * server.
 */
final class IsolatedResources {
  private final TestSettings settings;

  IsolatedResources(TestSettings settings) {
    this.settings = settings;
  }

  TestEnvironment create() {
    String database = ScratchDatabases.randomName("sluice_t_", 12);
    String prefix = ScratchDatabases.randomName("t", 12);
    ScratchDatabases.create(this::admin, database);
    return new TestEnvironment(
        settings.jdbcUrl(database),
        settings.dbUser(),
        settings.dbPassword(),
        settings.redisUrl(),
        prefix,
        database);
  }

  void remove(TestEnvironment env) {
    try {
      ScratchKeys.deleteAll(env.redisUrl(), env.redisPrefix());
    } finally {
      ScratchDatabases.drop(this::admin, env.databaseName());
    }
  }

  private Connection admin() throws SQLException {
    return settings.connect(settings.adminDatabase());
  }
}
