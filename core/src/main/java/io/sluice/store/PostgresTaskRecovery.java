package io.sluice.store;

import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.longs;
import static io.sluice.store.Sql.uuids;

import io.sluice.redis.PriorityBand;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The {@code tasks} queries of the reconciler: retries that are due and leases that expired. Each
 * finds rows first; the caller puts them back on their Redis queue and only then marks them QUEUED,
 * so a crash in between leaves them findable again. Claims accept both states, so the order is
 * safe.
 */
public final class PostgresTaskRecovery {
  private static final String DUE_RETRIES =
      """
      SELECT t.job_id, t.seq, t.lease_epoch, NULL AS worker_id, j.queue, j.priority,
             j.concurrency_key, j.concurrency_limit
        FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.status = 'RETRY_WAIT' AND t.not_before <= now() AND j.status IN ('QUEUED', 'RUNNING')
       ORDER BY t.not_before LIMIT ?
      """;

  private static final String MARK_RETRIES_QUEUED =
      """
      UPDATE tasks t SET status = 'QUEUED', not_before = NULL, version = t.version + 1
        FROM unnest(?::uuid[], ?::int[], ?::int8[]) AS c(job_id, seq, epoch)
       WHERE t.job_id = c.job_id AND t.seq = c.seq AND t.lease_epoch = c.epoch
         AND t.status = 'RETRY_WAIT'
      """;

  private static final String EXPIRED_LEASES =
      """
      SELECT t.job_id, t.seq, t.lease_epoch, t.worker_id, j.queue, j.priority,
             j.concurrency_key, j.concurrency_limit
        FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.status = 'RUNNING' AND t.lease_expires_at < now() AND j.status IN ('QUEUED', 'RUNNING')
       ORDER BY t.lease_expires_at LIMIT ?
      """;

  // One statement: the compare-and-set on the expired epoch and the RECLAIM event for each task.
  // A reclaim keeps the attempt its claim counted: a task that kills its worker must run out.
  static final String RECLAIM =
      """
      WITH locked AS (
        -- The fence judged on the locked row; the update reaches the rows by key alone
        -- (PostgresTaskStore.COMPLETE_CTES).
        SELECT t.job_id, t.seq, c.epoch,
               t.lease_epoch = c.epoch AND t.status = 'RUNNING' AND t.lease_expires_at < now() AS go
          FROM tasks t
          JOIN unnest(?::uuid[], ?::int[], ?::int8[]) AS c(job_id, seq, epoch)
            ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      ), reclaimed AS (
        UPDATE tasks t SET status = 'QUEUED', worker_id = NULL, lease_expires_at = NULL,
                           version = t.version + 1
          FROM locked l
         WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
        RETURNING t.job_id, t.seq, l.epoch
      )
      INSERT INTO job_events (job_id, job_version, kind, detail)
      SELECT r.job_id, j.version, ?, jsonb_build_object('seq', r.seq, 'leaseEpoch', r.epoch)
        FROM reclaimed r JOIN jobs j ON j.id = r.job_id
      """;

  // A draining worker gives back the tasks it will not finish: at once, not after their lease runs
  // out, and without spending the attempt their claim counted.
  static final String HAND_BACK =
      """
      WITH locked AS (
        SELECT t.job_id, t.seq, c.epoch, t.lease_epoch = c.epoch AND t.status = 'RUNNING' AS go
          FROM tasks t
          JOIN unnest(?::uuid[], ?::int[], ?::int8[]) AS c(job_id, seq, epoch)
            ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      ), released AS (
        UPDATE tasks t SET status = 'QUEUED', worker_id = NULL, lease_expires_at = NULL,
                           attempt = t.attempt - 1, version = t.version + 1
          FROM locked l
         WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
        RETURNING t.job_id, t.seq, l.epoch, ?::text AS worker_id
      ), logged AS (
        INSERT INTO job_events (job_id, job_version, kind, detail)
        SELECT r.job_id, j.version, ?,
               jsonb_build_object('seq', r.seq, 'leaseEpoch', r.epoch, 'workerId', r.worker_id)
          FROM released r JOIN jobs j ON j.id = r.job_id
      )
      SELECT job_id, seq FROM released
      """;

  private static final String ACTIVE_JOBS =
      "SELECT id, queue, task_count FROM jobs WHERE status IN ('QUEUED', 'RUNNING') AND stage_count = 0"
          + " ORDER BY created_at"; // a pipeline's own row has no tasks: its stages are rebuilt

  private static final String ACTIVE_QUEUES =
      "SELECT DISTINCT queue FROM jobs WHERE status IN ('QUEUED', 'RUNNING') AND stage_count = 0"
          + " ORDER BY queue";

  private static final String ACTIVE_KEYED_STREAMS =
      """
      SELECT DISTINCT queue, priority, concurrency_key FROM jobs
       WHERE status IN ('QUEUED', 'RUNNING') AND stage_count = 0 AND concurrency_key IS NOT NULL
      """;

  private static final String FINISHED_SEQS =
      "SELECT seq FROM tasks WHERE job_id = ? AND status IN ('SUCCEEDED', 'FAILED') ORDER BY seq";

  /** A job that is not finished, as a Redis rebuild needs it. */
  public record ActiveJob(UUID id, String queue, int taskCount) {}

  public List<ActiveJob> activeJobs(Connection c) throws SQLException {
    List<ActiveJob> jobs = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(ACTIVE_JOBS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        jobs.add(new ActiveJob(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3)));
      }
    }
    return jobs;
  }

  /** The queues that have a job not yet finished: what the reaper and the queue gauges look at. */
  public List<String> activeQueues(Connection c) throws SQLException {
    List<String> queues = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(ACTIVE_QUEUES);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        queues.add(rs.getString(1));
      }
    }
    return queues;
  }

  /**
   * The concurrency keys' streams of jobs not yet finished ({@link PriorityBand#stream(String, int,
   * String)}): what the reaper looks at besides the queues' band streams.
   */
  public List<String> activeKeyedStreams(Connection c) throws SQLException {
    Set<String> streams = new TreeSet<>();
    try (PreparedStatement ps = c.prepareStatement(ACTIVE_KEYED_STREAMS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        streams.add(PriorityBand.stream(rs.getString(1), rs.getInt(2), rs.getString(3)));
      }
    }
    return List.copyOf(streams);
  }

  /**
   * The sequence numbers of a job's finished tasks, read in one statement (one snapshot), so the
   * rebuilt fan-in counter and bitmap agree with each other.
   */
  public int[] finishedSeqs(Connection c, UUID jobId) throws SQLException {
    List<Integer> seqs = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(FINISHED_SEQS)) {
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          seqs.add(rs.getInt(1));
        }
      }
    }
    return seqs.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * A task found by a recovery query, with its job's queue, priority and concurrency key as they
   * are now: the caller turns them into the Redis stream it goes back to ({@link #stream()}).
   */
  public record Stranded(
      UUID jobId,
      int seq,
      long leaseEpoch,
      String workerId,
      String queue,
      int priority,
      ConcurrencyKey concurrency) {
    /** A task of a job without a concurrency key. */
    public Stranded(
        UUID jobId, int seq, long leaseEpoch, String workerId, String queue, int priority) {
      this(jobId, seq, leaseEpoch, workerId, queue, priority, null);
    }

    /** The Redis stream the task goes back to. */
    public String stream() {
      return PriorityBand.stream(queue, priority, ConcurrencyKey.keyOf(concurrency));
    }
  }

  public List<Stranded> dueRetries(Connection c, int limit) throws SQLException {
    return find(c, DUE_RETRIES, limit);
  }

  /**
   * Marks the found retries QUEUED unless they were claimed meanwhile: the epoch check keeps a
   * retry that was claimed, failed again and is waiting anew from being marked QUEUED with no
   * entry.
   */
  public int markRetriesQueued(Connection c, Collection<Stranded> tasks) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(MARK_RETRIES_QUEUED)) {
      ps.setArray(1, uuids(c, tasks, Stranded::jobId));
      ps.setArray(2, ints(c, tasks, Stranded::seq));
      ps.setArray(3, longs(c, tasks, Stranded::leaseEpoch));
      return ps.executeUpdate();
    }
  }

  public List<Stranded> expiredLeases(Connection c, int limit) throws SQLException {
    return find(c, EXPIRED_LEASES, limit);
  }

  /** Returns expired tasks to QUEUED if their lease is still the expired one; returns how many. */
  public int reclaim(Connection c, Collection<Stranded> tasks) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RECLAIM)) {
      ps.setArray(1, uuids(c, tasks, Stranded::jobId));
      ps.setArray(2, ints(c, tasks, Stranded::seq));
      ps.setArray(3, longs(c, tasks, Stranded::leaseEpoch));
      ps.setString(4, JobEventKind.RECLAIM.name());
      return ps.executeUpdate();
    }
  }

  /** Returns a draining worker's unfinished tasks to QUEUED; returns those released. */
  public List<TaskRef> handBack(Connection c, String workerId, Collection<ClaimedTask> held)
      throws SQLException {
    List<TaskRef> released = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(HAND_BACK)) {
      ps.setArray(1, uuids(c, held, ClaimedTask::jobId));
      ps.setArray(2, ints(c, held, ClaimedTask::seq));
      ps.setArray(3, longs(c, held, ClaimedTask::leaseEpoch));
      ps.setString(4, workerId);
      ps.setString(5, JobEventKind.HANDED_BACK.name());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          released.add(new TaskRef(rs.getObject(1, UUID.class), rs.getInt(2)));
        }
      }
    }
    return released;
  }

  private static List<Stranded> find(Connection c, String sql, int limit) throws SQLException {
    List<Stranded> found = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(
              new Stranded(
                  rs.getObject("job_id", UUID.class),
                  rs.getInt("seq"),
                  rs.getLong("lease_epoch"),
                  rs.getString("worker_id"),
                  rs.getString("queue"),
                  rs.getInt("priority"),
                  ConcurrencyKey.of(
                      rs.getString("concurrency_key"), rs.getInt("concurrency_limit"))));
        }
      }
    }
    return found;
  }
}
