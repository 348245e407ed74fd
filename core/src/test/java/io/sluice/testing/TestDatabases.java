package io.sluice.testing;

import io.sluice.config.DatabaseConfig;
import io.sluice.store.Database;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The test class's own database, and what tests reading PostgreSQL's statistics need of it. */
public final class TestDatabases {
  private TestDatabases() {}

  /** A pool of four on the test class's database, migrated. */
  public static Database migrated(TestEnvironment env) {
    Database db =
        new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    return db;
  }

  /**
   * Makes {@code c}'s statistics (rows, blocks) visible to other sessions: PostgreSQL flushes a
   * backend's counters at most once a second unless asked. Commits when {@code c} is in a
   * transaction.
   */
  public static void flushStatistics(Connection c) throws SQLException {
    try (PreparedStatement flush = c.prepareStatement("SELECT pg_stat_force_next_flush()")) {
      flush.execute();
    }
    if (!c.getAutoCommit()) {
      c.commit();
    }
  }
}
