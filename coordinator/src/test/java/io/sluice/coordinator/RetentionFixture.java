package io.sluice.coordinator;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Finished and active jobs written straight to the test's database, finished as long ago as the
 * test says, and the leaders that delete them: a real election on the PostgreSQL fence.
 */
final class RetentionFixture {
  private RetentionFixture() {}

  /** A database of the test's, migrated. */
  static Database database(TestEnvironment env) {
    Database db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "retention");
    db.migrate();
    return db;
  }

  /** A candidate on the PostgreSQL fence (the Redis lock faked), not leader yet. */
  static LeaderElection candidate(Database db, String nodeId, Duration lease, MeterRegistry m) {
    return new LeaderElection(
        nodeId, lease, LeaderStore.postgres(db), new FakeLeaderLock(), Clock.systemUTC(), m);
  }

  /** A leader elected on the PostgreSQL fence at its first campaign, or an exception. */
  static LeaderElection leader(Database db, String nodeId, Duration lease, MeterRegistry m) {
    LeaderElection leader = candidate(db, nodeId, lease, m);
    leader.tick();
    if (!leader.isLeader()) {
      throw new IllegalStateException(nodeId + " did not become leader");
    }
    return leader;
  }

  static DeleteExpiredJobs retention(
      RetentionConfig config,
      Database db,
      LeaderElection leader,
      QueueProtocol redis,
      MeterRegistry m) {
    return new DeleteExpiredJobs(config, db, leader, redis, Clock.systemUTC(), m);
  }

  /**
   * A one-stage job (or, with {@code parent}, a stage of it) in {@code status}, with {@code tasks}
   * tasks in {@code taskStatus}, two events, finished {@code finishedAgo} ago (null: never).
   */
  static UUID job(
      Connection c, UUID parent, String status, int tasks, String taskStatus, Duration finishedAgo)
      throws SQLException {
    UUID id = UUID.randomUUID();
    try (PreparedStatement ps =
        c.prepareStatement(
            """
            INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash, max_attempts,
                              task_count, tasks_failed, finished_at, parent_id, stage_name,
                              stage_idx, stage_count)
            VALUES (?, 'tenant-a', 'counting', 'default', ?, '{}'::jsonb, 'hash', 3, ?, ?,
                    now() - ? * interval '1 millisecond', ?, ?, ?, ?)
            """)) {
      ps.setObject(1, id);
      ps.setString(2, status);
      ps.setInt(3, tasks);
      ps.setInt(4, "FAILED".equals(taskStatus) ? tasks : 0);
      ps.setObject(5, finishedAgo == null ? null : finishedAgo.toMillis());
      ps.setObject(6, parent);
      ps.setString(7, parent == null ? null : "s-" + id);
      ps.setObject(8, parent == null ? null : (short) (id.hashCode() & 0x7fff));
      ps.setInt(9, 0);
      ps.executeUpdate();
    }
    update(
        c,
        """
        INSERT INTO tasks (job_id, seq, status, input, finished_at)
        SELECT ?, s, ?, '{}'::jsonb, now() FROM generate_series(0, ? - 1) AS s
        """,
        id,
        taskStatus,
        tasks);
    update(
        c,
        """
        INSERT INTO job_events (job_id, job_version, kind, to_status)
        SELECT ?, v, 'STATUS', 'RUNNING' FROM generate_series(1, 2) AS v
        """,
        id);
    return id;
  }

  /** A pipeline in {@code status} with two stages in {@code status}, each with two tasks. */
  static UUID pipeline(Connection c, String status, Duration finishedAgo) throws SQLException {
    UUID id = job(c, null, status, 0, "SUCCEEDED", finishedAgo);
    update(c, "UPDATE jobs SET stage_count = 2 WHERE id = ?", id);
    job(c, id, status, 2, "SUCCEEDED", finishedAgo);
    job(c, id, status, 2, "SUCCEEDED", finishedAgo);
    return id;
  }

  /** The rows of the job and its stages in every per-job table. */
  static Map<String, Long> rows(Connection c, UUID job) throws SQLException {
    String ids = "(SELECT id FROM jobs WHERE id = ? OR parent_id = ?)";
    return Map.of(
        "jobs", count(c, "SELECT count(*) FROM jobs WHERE id IN " + ids, job),
        "tasks", count(c, "SELECT count(*) FROM tasks WHERE job_id IN " + ids, job),
        "job_events", count(c, "SELECT count(*) FROM job_events WHERE job_id IN " + ids, job));
  }

  /** What {@link #rows} says of a job that is entirely gone. */
  static final Map<String, Long> NONE = Map.of("jobs", 0L, "tasks", 0L, "job_events", 0L);

  static long count(Connection c, String sql, UUID job) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 1; i <= ps.getParameterMetaData().getParameterCount(); i++) {
        ps.setObject(i, job);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static void update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  /** The stage ids of {@code pipeline}. */
  static List<UUID> stages(Connection c, UUID pipeline) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT id FROM jobs WHERE parent_id = ?")) {
      ps.setObject(1, pipeline);
      try (ResultSet rs = ps.executeQuery()) {
        List<UUID> ids = new ArrayList<>();
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
        }
        return ids;
      }
    }
  }
}
