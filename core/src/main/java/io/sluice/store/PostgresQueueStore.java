package io.sluice.store;

import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.uuids;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The {@code queues} table: which queues an operator paused, since when and by whom. A pause or
 * resume is one upsert that increases the row's version, so the copy in Redis can refuse an older
 * state; the task claim reads the table in its own statement, so no task of a paused queue is
 * claimed once the pause is committed.
 */
public final class PostgresQueueStore {
  // Pausing a paused queue keeps its paused_at and paused_by: the pause began then, by them.
  private static final String PAUSE =
      """
      INSERT INTO queues (name, paused, paused_at, paused_by) VALUES (?, true, now(), ?)
      ON CONFLICT (name) DO UPDATE
         SET paused = true,
             paused_at = COALESCE(queues.paused_at, now()),
             paused_by = CASE WHEN queues.paused THEN queues.paused_by ELSE EXCLUDED.paused_by END,
             version = queues.version + 1, updated_at = now()
      RETURNING name, paused, paused_at, paused_by, version
      """;

  private static final String RESUME =
      """
      INSERT INTO queues (name, paused, paused_at, paused_by) VALUES (?, false, NULL, NULL)
      ON CONFLICT (name) DO UPDATE
         SET paused = false, paused_at = NULL, paused_by = NULL,
             version = queues.version + 1, updated_at = now()
      RETURNING name, paused, paused_at, paused_by, version
      """;

  private static final String ALL =
      "SELECT name, paused, paused_at, paused_by, version FROM queues ORDER BY name";

  // The tasks of these entries that the claim refused only because their queue is paused: the
  // same conditions as PostgresTaskStore's CLAIM, with the pause check turned round.
  private static final String HELD_BY_PAUSE =
      """
      SELECT t.job_id, t.seq FROM tasks t
        JOIN unnest(?::uuid[], ?::int[]) AS r(job_id, seq) ON t.job_id = r.job_id AND t.seq = r.seq
        JOIN jobs j ON j.id = t.job_id
        JOIN queues q ON q.name = j.queue AND q.paused
       WHERE j.status IN ('QUEUED', 'RUNNING')
         AND (t.status IN ('QUEUED', 'RETRY_WAIT')
              OR (t.status = 'RUNNING' AND t.lease_expires_at < now()))
      """;

  /**
   * A queue's row.
   *
   * @param name the queue
   * @param paused whether it is paused
   * @param pausedAt when the current pause began, null when running
   * @param pausedBy the tenant of the admin token that paused it, null when running
   * @param version increased by every pause and resume
   */
  public record QueueRow(
      String name, boolean paused, Instant pausedAt, String pausedBy, long version) {}

  /** Pauses the queue (idempotent; the version still increases) and returns its row. */
  public QueueRow pause(Connection c, String queue, String byTenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PAUSE)) {
      ps.setString(1, queue);
      ps.setString(2, byTenant);
      return one(ps);
    }
  }

  /** Resumes the queue (idempotent; the version still increases) and returns its row. */
  public QueueRow resume(Connection c, String queue) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RESUME)) {
      ps.setString(1, queue);
      return one(ps);
    }
  }

  /** Every queue ever paused or resumed, by name. */
  public List<QueueRow> all(Connection c) throws SQLException {
    List<QueueRow> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(ALL);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(row(rs));
      }
    }
    return rows;
  }

  /** Of these tasks, the claimable ones whose queue is paused. */
  public Set<TaskRef> heldByPause(Connection c, Collection<TaskRef> refs) throws SQLException {
    Set<TaskRef> held = new LinkedHashSet<>();
    try (PreparedStatement ps = c.prepareStatement(HELD_BY_PAUSE)) {
      ps.setArray(1, uuids(c, refs, TaskRef::jobId));
      ps.setArray(2, ints(c, refs, TaskRef::seq));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          held.add(new TaskRef(rs.getObject("job_id", UUID.class), rs.getInt("seq")));
        }
      }
    }
    return held;
  }

  private static QueueRow one(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      rs.next();
      return row(rs);
    }
  }

  private static QueueRow row(ResultSet rs) throws SQLException {
    return new QueueRow(
        rs.getString("name"),
        rs.getBoolean("paused"),
        Sql.instant(rs, "paused_at"),
        rs.getString("paused_by"),
        rs.getLong("version"));
  }
}
