package io.sluice.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/**
 * The collection bookkeeping columns of {@code jobs} ({@code collect_attempts}, {@code
 * collect_error}): how often a job's collector was started, durably, so the bound holds across
 * coordinator restarts, and what its last failure was. Every write is fenced by the version the
 * collection gate returned; none of them bumps the version, so the gate's fence still holds for the
 * final commit.
 */
public final class PostgresCollectAttempts {
  // Run right after the RUNNING → COLLECTING compare-and-set, in its transaction: a fresh gate
  // starts a fresh count (a job reopened by a dead-letter requeue is collected anew).
  private static final String FIRST =
      """
      UPDATE jobs SET collect_attempts = 1, collect_error = NULL
       WHERE id = ? AND status = 'COLLECTING' AND version = ?
      RETURNING collect_attempts
      """;

  // The takeover of a collection whose collector stopped heartbeating (its coordinator died or
  // was cut off): one compare-and-set that moves the version on (the old holder's commit then
  // loses) and counts the new start.
  private static final String TAKE_OVER =
      """
      UPDATE jobs SET version = version + 1, updated_at = now(),
                      collect_attempts = collect_attempts + 1
       WHERE id = ? AND status = 'COLLECTING' AND updated_at < now() - ? * interval '1 millisecond'
      RETURNING version, collect_attempts, collect_error
      """;

  // A running collection keeps its row fresh so that nobody takes it over while it works.
  private static final String HEARTBEAT =
      "UPDATE jobs SET updated_at = now() WHERE id = ? AND status = 'COLLECTING' AND version = ?";

  // A failed attempt that will be repeated by the same holder: records why and counts the next.
  private static final String RETRY =
      """
      UPDATE jobs SET collect_attempts = collect_attempts + 1, collect_error = ?, updated_at = now()
       WHERE id = ? AND status = 'COLLECTING' AND version = ?
      RETURNING collect_attempts
      """;

  // The gate of many jobs in one statement: each row either moves RUNNING → COLLECTING (its tasks
  // all finished, as PostgreSQL counts them; a fresh gate starts a fresh count) or, already
  // COLLECTING and silent for the grace, is taken over (the version moves on, the start is
  // counted). The rows are locked in id order, so two coordinators gating overlapping batches
  // queue on each other instead of deadlocking; a row moved meanwhile is re-checked under its lock.
  // Only a real move writes a status event, as the one-job transitions do.
  private static final String READY =
      "(j.status IN ('QUEUED', 'RUNNING') AND j.stage_count = 0"
          + " AND j.tasks_succeeded + j.tasks_failed = j.task_count)";

  private static final String STALE =
      "(j.status = 'COLLECTING' AND j.updated_at < now() - ? * interval '1 millisecond')";

  private static final String OPEN_ALL =
      """
      WITH locked AS MATERIALIZED (
        -- The gate is judged on the locked row (see PostgresJobTransitions.transitionAll).
        SELECT j.id, j.status AS old_status, (%1$s OR %2$s) AS go FROM jobs j
         WHERE j.id = ANY (?::uuid[])
         ORDER BY j.id
           FOR UPDATE OF j
      ), moved AS (
        UPDATE jobs j SET status = 'COLLECTING', started_at = COALESCE(j.started_at, now()),
                          version = j.version + 1, updated_at = now(),
                          collect_attempts =
                            CASE WHEN j.status = 'COLLECTING' THEN j.collect_attempts + 1 ELSE 1 END,
                          collect_error = CASE WHEN j.status = 'COLLECTING' THEN j.collect_error END
          FROM locked o
         WHERE j.id = o.id AND o.go
        RETURNING j.id, o.old_status, j.version, j.collect_attempts, j.collect_error, j.parent_id,
                  j.task_count
      ), logged AS (
        INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
        SELECT id, version, ?, old_status, 'COLLECTING', NULL FROM moved
         WHERE old_status <> 'COLLECTING'
      )
      SELECT id, version, collect_attempts, collect_error, parent_id, task_count FROM moved
      """
          .formatted(READY, STALE);

  // The heartbeat of every collection still running here, in one statement.
  private static final String HEARTBEAT_ALL =
      """
      UPDATE jobs j SET updated_at = now()
        FROM unnest(?::uuid[], ?::bigint[]) AS i(id, version)
       WHERE j.id = i.id AND j.status = 'COLLECTING' AND j.version = i.version
      RETURNING j.id
      """;

  // The failed attempts of many collections that will be repeated, in one statement.
  private static final String RETRY_ALL =
      """
      UPDATE jobs j SET collect_attempts = j.collect_attempts + 1, collect_error = i.error,
                        updated_at = now()
        FROM unnest(?::uuid[], ?::bigint[], ?::text[]) AS i(id, version, error)
       WHERE j.id = i.id AND j.status = 'COLLECTING' AND j.version = i.version
      RETURNING j.id, j.collect_attempts
      """;

  private final PostgresJobTransitions transitions = new PostgresJobTransitions();

  /**
   * A gate {@link #openAll} opened: the job, its gate, its pipeline (null for a one-stage job) and
   * its task count.
   */
  public record Opened(UUID jobId, Gate gate, UUID parentId, int taskCount) {}

  /** A failed attempt to record, at the gate's {@code version}. */
  public record Retry(UUID jobId, long version, String error) {}

  /** A collection gate held at {@code version}, and which start of the collector this is. */
  public record Gate(long version, int attempt, String lastError) {}

  /**
   * Opens the collection of a job whose tasks are all finished ({@link
   * PostgresJobTransitions#collecting}) and counts its first start, or takes over one that has not
   * heartbeated for {@code staleAfter}; empty when neither applies (an early or duplicate trigger,
   * or a collection that is alive elsewhere).
   */
  public Optional<Gate> open(Connection c, UUID jobId, Duration staleAfter) throws SQLException {
    OptionalLong moved = transitions.collecting(c, jobId);
    return moved.isPresent() ? first(c, jobId, moved.getAsLong()) : takeOver(c, jobId, staleAfter);
  }

  /** Counts the first start of a collection just gated at {@code version}. */
  public Optional<Gate> first(Connection c, UUID jobId, long version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FIRST)) {
      ps.setObject(1, jobId);
      ps.setLong(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Gate(version, rs.getInt(1), null)) : Optional.empty();
      }
    }
  }

  /** Takes over a collection that has not heartbeated for {@code staleAfter}. */
  public Optional<Gate> takeOver(Connection c, UUID jobId, Duration staleAfter)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TAKE_OVER)) {
      ps.setObject(1, jobId);
      ps.setLong(2, staleAfter.toMillis());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Gate(rs.getLong(1), rs.getInt(2), rs.getString(3)))
            : Optional.empty();
      }
    }
  }

  /** Refreshes a running collection; false when the gate was lost (taken over or finished). */
  public boolean heartbeat(Connection c, UUID jobId, long version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
      ps.setObject(1, jobId);
      ps.setLong(2, version);
      return ps.executeUpdate() == 1;
    }
  }

  /** Records a failed attempt and counts the next one; empty when the gate was lost. */
  public Optional<Gate> retry(Connection c, UUID jobId, long version, String error)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RETRY)) {
      ps.setString(1, error);
      ps.setObject(2, jobId);
      ps.setLong(3, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Gate(version, rs.getInt(1), error)) : Optional.empty();
      }
    }
  }

  /**
   * {@link #open} for many jobs in one statement: the gates opened or taken over, in id order; a
   * job neither ready nor stale (an early or duplicate trigger, a collection alive elsewhere) is
   * not in the answer.
   */
  public List<Opened> openAll(Connection c, List<UUID> jobIds, Duration staleAfter)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(OPEN_ALL)) {
      ps.setLong(1, staleAfter.toMillis());
      ps.setArray(2, uuids(c, jobIds));
      ps.setString(3, JobEventKind.STATUS.name());
      List<Opened> opened = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          opened.add(
              new Opened(
                  rs.getObject(1, UUID.class),
                  new Gate(rs.getLong(2), rs.getInt(3), rs.getString(4)),
                  rs.getObject(5, UUID.class),
                  rs.getInt(6)));
        }
      }
      return opened;
    }
  }

  /**
   * {@link #heartbeat} of many collections, each at its gate's version, in one statement: the jobs
   * whose gate still holds.
   */
  public Set<UUID> heartbeatAll(Connection c, Map<UUID, Long> versions) throws SQLException {
    List<UUID> ids = new ArrayList<>(versions.keySet());
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT_ALL)) {
      ps.setArray(1, uuids(c, ids));
      ps.setArray(2, c.createArrayOf("bigint", ids.stream().map(versions::get).toArray()));
      Set<UUID> alive = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          alive.add(rs.getObject(1, UUID.class));
        }
      }
      return alive;
    }
  }

  /**
   * {@link #retry} of many collections in one statement: the next gate of each whose gate still
   * holds; one that was lost (taken over, its stage cancelled) is not in the answer.
   */
  public Map<UUID, Gate> retryAll(Connection c, List<Retry> retries) throws SQLException {
    Map<UUID, Retry> byId = new HashMap<>();
    retries.forEach(r -> byId.put(r.jobId(), r));
    try (PreparedStatement ps = c.prepareStatement(RETRY_ALL)) {
      ps.setArray(1, uuids(c, retries.stream().map(Retry::jobId).toList()));
      ps.setArray(2, c.createArrayOf("bigint", retries.stream().map(Retry::version).toArray()));
      ps.setArray(3, c.createArrayOf("text", retries.stream().map(Retry::error).toArray()));
      Map<UUID, Gate> next = new HashMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Retry r = byId.get(rs.getObject(1, UUID.class));
          next.put(r.jobId(), new Gate(r.version(), rs.getInt(2), r.error()));
        }
      }
      return next;
    }
  }

  static Array uuids(Connection c, List<UUID> ids) throws SQLException {
    return c.createArrayOf("uuid", ids.toArray());
  }
}
