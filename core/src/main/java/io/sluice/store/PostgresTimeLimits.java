package io.sluice.store;

import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.longs;
import static io.sluice.store.Sql.texts;
import static io.sluice.store.Sql.uuids;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The leader's enforcement of time limits, on PostgreSQL's clock, in batched statements: attempts
 * that ran past their job's task timeout (a safety net behind the worker's own timer) and jobs past
 * their deadline. Each write is fenced: an attempt by its lease epoch and status, a job by its
 * status and deadline, re-checked against {@code now()} under the row locks.
 */
public final class PostgresTimeLimits {
  /** The error of a job failed by its deadline. */
  public static final String DEADLINE_EXCEEDED = "deadline exceeded";

  private static final String OVERDUE =
      """
      SELECT t.job_id, t.seq, t.lease_epoch, t.attempt, j.max_attempts, j.task_timeout_ms,
             j.retry_base_ms, j.retry_max_ms
        FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.status = 'RUNNING' AND j.task_timeout_ms IS NOT NULL
         AND j.status IN ('QUEUED', 'RUNNING')
         AND t.started_at + (j.task_timeout_ms + ?) * interval '1 millisecond' < now()
       ORDER BY t.started_at LIMIT ?
      """;

  // The attempt fails and waits for its retry; the epoch moves on, so its worker's renewal and its
  // late completion are refused like a reclaimed zombie's. Rows are locked in (job_id, seq) order,
  // as every writer of many task rows locks them.
  static final String TIME_OUT =
      """
      WITH c AS (
        SELECT * FROM unnest(?::uuid[], ?::int[], ?::int8[], ?::text[], ?::int8[])
                 AS c(job_id, seq, epoch, error, delay_ms)
      ), locked AS (
        SELECT t.job_id, t.seq, t.worker_id, t.status, t.lease_epoch, t.started_at, c.epoch, c.error,
               c.delay_ms
          FROM tasks t JOIN c ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      ), with_job AS MATERIALIZED (
        -- The fence judged on the locked row; the update reaches the rows by key alone
        -- (PostgresTaskStore.COMPLETE_CTES).
        SELECT l.job_id, l.seq, l.worker_id, l.epoch, l.error, l.delay_ms, j.version AS job_version,
               l.status = 'RUNNING' AND l.lease_epoch = l.epoch
                 AND l.started_at + j.task_timeout_ms * interval '1 millisecond' < now() AS go
          FROM locked l JOIN jobs j ON j.id = l.job_id
      ), timed_out AS (
        UPDATE tasks t
           SET status = 'RETRY_WAIT', error = l.error, lease_epoch = t.lease_epoch + 1,
               worker_id = NULL, lease_expires_at = NULL, version = t.version + 1,
               not_before = now() + l.delay_ms * interval '1 millisecond'
          FROM with_job l
         WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
        RETURNING t.job_id, t.seq, l.epoch, l.worker_id, l.error, l.job_version
      )
      INSERT INTO job_events (job_id, job_version, kind, detail)
      SELECT job_id, job_version, ?,
             jsonb_build_object('seq', seq, 'leaseEpoch', epoch, 'workerId', worker_id, 'error', error)
        FROM timed_out
      """;

  private static final String PAST_DEADLINE =
      """
      SELECT id FROM jobs
       WHERE deadline_at <= now() AND parent_id IS NULL
         AND status IN ('QUEUED', 'RUNNING', 'COLLECTING')
       ORDER BY deadline_at LIMIT ?
      """;

  // Tasks first, then stage rows, then the jobs: the order of a worker's completion (task rows,
  // then job counters, stages before their pipelines), so the two queue up instead of deadlocking.
  // A running task's lease ends too: its renewal and its completion are refused from now on.
  private static final String CANCEL_TASKS =
      """
      WITH locked AS (
        SELECT t.job_id, t.seq FROM tasks t
         WHERE t.job_id IN (SELECT id FROM jobs WHERE id = ANY(?) OR parent_id = ANY(?))
           AND t.status IN ('QUEUED', 'RETRY_WAIT', 'RUNNING')
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      )
      UPDATE tasks t SET status = 'CANCELLED', lease_expires_at = NULL, not_before = NULL,
                         finished_at = now(), version = t.version + 1
        FROM locked l
       WHERE t.job_id = l.job_id AND t.seq = l.seq
         AND t.status IN ('QUEUED', 'RETRY_WAIT', 'RUNNING')
      """;

  // Stages and jobs alike: locked in id order, one status event each.
  private static final String END_ROWS =
      """
      WITH o AS (
        SELECT id, status AS old_status FROM jobs
         WHERE (id = ANY(?) AND deadline_at <= now()) OR parent_id = ANY(?)
         ORDER BY id FOR UPDATE
      ), moved AS (
        UPDATE jobs j SET status = CASE WHEN j.parent_id IS NULL THEN 'FAILED' ELSE 'CANCELLED' END,
                          error = ?, finished_at = now(), version = j.version + 1, updated_at = now()
          FROM o
         WHERE j.id = o.id AND j.status IN ('WAITING', 'QUEUED', 'RUNNING', 'COLLECTING')
           AND (j.parent_id IS NOT NULL OR j.id = ANY(?))
        RETURNING j.id, j.parent_id, o.old_status, j.status, j.version
      ), logged AS (
        INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
        SELECT id, version, ?, old_status, status, jsonb_build_object('error', ?::text) FROM moved
      )
      SELECT id, parent_id FROM moved
      """;

  /** A running attempt past its task timeout (and the grace), with what its retry needs. */
  public record Overdue(
      UUID jobId,
      int seq,
      long leaseEpoch,
      int attempt,
      int maxAttempts,
      Duration timeout,
      TimeLimits limits) {}

  /** An attempt to time out: the error it fails with and the delay of its retry. */
  public record Expiry(UUID jobId, int seq, long leaseEpoch, String error, long retryDelayMs) {}

  /** What a deadline sweep ended: the top-level jobs it FAILED and every row it ended. */
  public record Ended(List<UUID> failedJobs, List<UUID> allRows) {}

  /**
   * Up to {@code limit} running attempts older than their job's task timeout plus {@code grace}.
   */
  public List<Overdue> overdue(Connection c, Duration grace, int limit) throws SQLException {
    List<Overdue> found = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(OVERDUE)) {
      ps.setLong(1, grace.toMillis());
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Duration timeout = Duration.ofMillis(rs.getLong("task_timeout_ms"));
          TimeLimits limits =
              new TimeLimits(
                  timeout,
                  null,
                  TimeLimits.duration(rs.getLong("retry_base_ms"), rs.wasNull()),
                  TimeLimits.duration(rs.getLong("retry_max_ms"), rs.wasNull()));
          found.add(
              new Overdue(
                  rs.getObject("job_id", UUID.class),
                  rs.getInt("seq"),
                  rs.getLong("lease_epoch"),
                  rs.getInt("attempt"),
                  rs.getInt("max_attempts"),
                  timeout,
                  limits));
        }
      }
    }
    return found;
  }

  /**
   * Fails the attempts still at their epoch and past their timeout, each into RETRY_WAIT with a
   * TIMED_OUT event; returns how many.
   */
  public int timeOut(Connection c, Collection<Expiry> expiries) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TIME_OUT)) {
      ps.setArray(1, uuids(c, expiries, Expiry::jobId));
      ps.setArray(2, ints(c, expiries, Expiry::seq));
      ps.setArray(3, longs(c, expiries, Expiry::leaseEpoch));
      ps.setArray(4, texts(c, expiries, Expiry::error));
      ps.setArray(5, longs(c, expiries, Expiry::retryDelayMs));
      ps.setString(6, JobEventKind.TIMED_OUT.name());
      return ps.executeUpdate();
    }
  }

  /** Up to {@code limit} active top-level jobs whose deadline has passed, oldest deadline first. */
  public List<UUID> pastDeadline(Connection c, int limit) throws SQLException {
    List<UUID> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(PAST_DEADLINE)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
        }
      }
    }
    return ids;
  }

  /**
   * FAILs the jobs ("deadline exceeded") that are still active and past their deadline, in the
   * caller's transaction: their unfinished tasks (and their stages' tasks) become CANCELLED, so a
   * queued one never starts and a running one's renewal tells its handler to stop; their stages not
   * finished become CANCELLED. One status event per row moved.
   */
  public Ended failPastDeadline(Connection c, List<UUID> ids) throws SQLException {
    Array array = c.createArrayOf("uuid", ids.toArray());
    try (PreparedStatement ps = c.prepareStatement(CANCEL_TASKS)) {
      ps.setArray(1, array);
      ps.setArray(2, array);
      ps.executeUpdate();
    }
    List<UUID> failed = new ArrayList<>();
    List<UUID> all = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(END_ROWS)) {
      ps.setArray(1, array);
      ps.setArray(2, array);
      ps.setString(3, DEADLINE_EXCEEDED);
      ps.setArray(4, array);
      ps.setString(5, JobEventKind.STATUS.name());
      ps.setString(6, DEADLINE_EXCEEDED);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject("id", UUID.class);
          all.add(id);
          if (rs.getObject("parent_id") == null) {
            failed.add(id);
          }
        }
      }
    }
    return new Ended(failed, all);
  }
}
