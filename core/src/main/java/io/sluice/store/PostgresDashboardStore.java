package io.sluice.store;

import static io.sluice.store.Sql.instant;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The dashboard's reads across {@code nodes}, {@code jobs} and {@code tasks}. Each is one statement
 * that an index or a small table bounds, because the page polls them every few seconds.
 */
public final class PostgresDashboardStore {
  // Running tasks are read through the partial index on RUNNING tasks, not per node; a tenant
  // sees the nodes but counts only its own tasks on them.
  private static final String NODES =
      """
      SELECT n.id, n.kind, n.status, n.version, n.started_at, n.heartbeat_at, n.info::text AS info,
             (EXTRACT(EPOCH FROM (now() - n.heartbeat_at)) * 1000)::bigint AS heartbeat_age_ms,
             COALESCE(r.running, 0) AS running
        FROM nodes n
        LEFT JOIN (SELECT t.worker_id, count(*) AS running FROM tasks t JOIN jobs j ON j.id = t.job_id
                    WHERE t.status = 'RUNNING' AND (?::text IS NULL OR j.tenant = ?::text)
                    GROUP BY t.worker_id) r ON r.worker_id = n.id
       ORDER BY n.heartbeat_at DESC, n.id
       LIMIT ?
      """;

  // A job with a task finished inside the window was updated inside it (its counters moved), so
  // only those jobs' tasks are counted.
  private static final String QUEUES =
      """
      SELECT j.queue,
             count(*) FILTER (WHERE j.status IN ('QUEUED', 'RUNNING', 'COLLECTING')) AS active_jobs,
             COALESCE(sum(j.task_count - j.tasks_succeeded - j.tasks_failed)
                        FILTER (WHERE j.status IN ('QUEUED', 'RUNNING')), 0) AS open_tasks,
             COALESCE(sum(f.finished), 0) AS finished
        FROM jobs j
        LEFT JOIN LATERAL (
              SELECT count(*) AS finished FROM tasks t
               WHERE j.updated_at > now() - ? * interval '1 millisecond'
                 AND t.job_id = j.id
                 AND t.finished_at > now() - ? * interval '1 millisecond') f ON true
       WHERE (?::text IS NULL OR j.tenant = ?::text)
         AND j.stage_count = 0 -- a pipeline's own row has no tasks; its stages count on their queues
       GROUP BY j.queue
       ORDER BY j.queue
       LIMIT ?
      """;

  private static final String DEAD_LETTERS =
      """
      SELECT t.job_id, t.seq, t.attempt, t.worker_id, t.error, t.finished_at,
             j.type, j.queue, j.status AS job_status
        FROM tasks t JOIN jobs j ON j.id = t.job_id
       WHERE t.status = 'FAILED' AND (?::text IS NULL OR j.tenant = ?::text)
       ORDER BY t.finished_at DESC, t.job_id, t.seq
       LIMIT ?
      """;

  /** A coordinator or worker process and its last heartbeat. */
  public record NodeView(
      String id,
      String kind,
      String status,
      long version,
      Instant startedAt,
      Instant heartbeatAt,
      long heartbeatAgeMs,
      long runningTasks,
      JsonNode info) {}

  /** What PostgreSQL knows of one queue: its jobs and its recent throughput. */
  public record QueueActivity(String queue, long activeJobs, long openTasks, long finished) {}

  /** A task that failed for good, with what its job looks like now. */
  public record DeadLetter(
      UUID jobId,
      int seq,
      int attempt,
      String workerId,
      String error,
      Instant finishedAt,
      String jobType,
      String queue,
      JobStatus jobStatus) {}

  /**
   * The most recently heartbeating nodes first, each with its running tasks of jobs in {@code
   * scope}.
   */
  public List<NodeView> nodes(Connection c, TenantScope scope, int limit) throws SQLException {
    List<NodeView> nodes = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(NODES)) {
      scope.bind(ps, 1);
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          nodes.add(
              new NodeView(
                  rs.getString("id"),
                  rs.getString("kind"),
                  rs.getString("status"),
                  rs.getLong("version"),
                  instant(rs, "started_at"),
                  instant(rs, "heartbeat_at"),
                  rs.getLong("heartbeat_age_ms"),
                  rs.getLong("running"),
                  Json.read(rs.getString("info"))));
        }
      }
    }
    return nodes;
  }

  /**
   * Every queue that has jobs in {@code scope}, with the tasks of those jobs that finished within
   * {@code window}.
   */
  public List<QueueActivity> queues(Connection c, TenantScope scope, Duration window, int limit)
      throws SQLException {
    List<QueueActivity> queues = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(QUEUES)) {
      ps.setLong(1, window.toMillis());
      ps.setLong(2, window.toMillis());
      scope.bind(ps, 3);
      ps.setInt(5, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          queues.add(
              new QueueActivity(
                  rs.getString("queue"),
                  rs.getLong("active_jobs"),
                  rs.getLong("open_tasks"),
                  rs.getLong("finished")));
        }
      }
    }
    return queues;
  }

  /** FAILED tasks of the jobs in {@code scope}, the most recent failure first. */
  public List<DeadLetter> deadLetters(Connection c, TenantScope scope, int limit)
      throws SQLException {
    List<DeadLetter> dead = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(DEAD_LETTERS)) {
      scope.bind(ps, 1);
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          dead.add(
              new DeadLetter(
                  rs.getObject("job_id", UUID.class),
                  rs.getInt("seq"),
                  rs.getInt("attempt"),
                  rs.getString("worker_id"),
                  rs.getString("error"),
                  instant(rs, "finished_at"),
                  rs.getString("type"),
                  rs.getString("queue"),
                  JobStatus.valueOf(rs.getString("job_status"))));
        }
      }
    }
    return dead;
  }
}
