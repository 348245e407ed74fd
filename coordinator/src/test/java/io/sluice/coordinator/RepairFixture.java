package io.sluice.coordinator;

import io.sluice.config.ApiTokens;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Rows in the state a repair looks for, written straight to the test's database (as a crash or a
 * lost message would leave them), and a coordinator configuration for the test's environment.
 */
final class RepairFixture {
  static final String TOKEN = "repair-token-0123456789";

  private RepairFixture() {}

  /** A coordinator on the test's database and prefix; every grace long unless the test says. */
  static CoordinatorConfig.Builder config(TestEnvironment env) {
    return CoordinatorConfig.builder(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 8),
            RedisConfig.parse(env.redisUrl(), env.redisPrefix()),
            ApiTokens.parse("tenant-a:" + TOKEN))
        .httpPort(0)
        .nodeId("coord-" + env.redisPrefix() + "-" + UUID.randomUUID().toString().substring(0, 4))
        .sweepInterval(Duration.ofMillis(200))
        .dispatchGrace(Duration.ofMinutes(30))
        .collectGrace(Duration.ofMinutes(30))
        .collectingGrace(Duration.ofMinutes(30))
        .leaderLease(Duration.ofSeconds(2))
        .nodeDeadAfter(Duration.ofMinutes(30));
  }

  /** A job as the test wants it. */
  record Row(
      String type,
      String queue,
      String status,
      String payloadJson,
      int tasks,
      String taskStatus,
      Duration updatedAgo,
      Instant runAt) {}

  /** Writes the job and its tasks (all in {@code taskStatus}); counts finished ones. */
  static UUID insert(Connection c, Row row) throws SQLException {
    UUID id = UUID.randomUUID();
    boolean finished = row.taskStatus().equals("SUCCEEDED");
    try (PreparedStatement ps =
        c.prepareStatement(
            """
            INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash, max_attempts,
                              task_count, tasks_succeeded, updated_at, created_at, run_at)
            VALUES (?, 'tenant-a', ?, ?, ?, ?::jsonb, 'hash', 3, ?, ?,
                    now() - ? * interval '1 millisecond', now() - ? * interval '1 millisecond', ?)
            """)) {
      ps.setObject(1, id);
      ps.setString(2, row.type());
      ps.setString(3, row.queue());
      ps.setString(4, row.status());
      ps.setString(5, row.payloadJson().replace("$ID", id.toString()));
      ps.setInt(6, row.tasks());
      ps.setInt(7, finished ? row.tasks() : 0);
      ps.setLong(8, row.updatedAgo().toMillis());
      ps.setLong(9, row.updatedAgo().toMillis());
      ps.setTimestamp(10, row.runAt() == null ? null : Timestamp.from(row.runAt()));
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            """
            INSERT INTO tasks (job_id, seq, status, input, output, finished_at)
            SELECT ?, s, ?, '{}'::jsonb, CASE WHEN ? THEN '{}'::jsonb END, CASE WHEN ? THEN now() END
              FROM generate_series(0, ? - 1) AS s
            """)) {
      ps.setObject(1, id);
      ps.setString(2, row.taskStatus());
      ps.setBoolean(3, finished);
      ps.setBoolean(4, finished);
      ps.setInt(5, row.tasks());
      ps.executeUpdate();
    }
    return id;
  }

  static String status(TestEnvironment env, UUID jobId) throws SQLException {
    return string(env, "SELECT status FROM jobs WHERE id = ?", jobId);
  }

  static String string(TestEnvironment env, String sql, Object arg) throws SQLException {
    try (Connection c = env.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
