package io.sluice.store;

import io.sluice.SluiceException;
import io.sluice.json.Json;
import io.sluice.redis.PriorityBand;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Requeues a dead-lettered (FAILED) task: one transaction that locks the job row, moves the task
 * back to QUEUED with a fresh attempt budget, takes it off the job's failed count and records the
 * event; every write is a compare-and-set on the state read under the lock.
 *
 * <p>The job is left QUEUED when it has to be dispatched again (it was RUNNING, or it was FAILED
 * and this was its last failed task): the caller puts the tasks on their Redis queue after the
 * commit and then moves the job to RUNNING, and a crash in between leaves a QUEUED job that the
 * sweeper dispatches again. A FAILED job with {@code on_task_failure = fail} stays FAILED while
 * other tasks of it are still FAILED; its requeued tasks wait until the last one is requeued. When
 * a FAILED job reopens, the tasks cancelled because of the failure are QUEUED again too, or the job
 * could never finish.
 */
public final class PostgresTaskRequeue {
  /** Job states in which a failed task may be requeued; a finished or collecting job is final. */
  public static final Set<JobStatus> REQUEUABLE =
      EnumSet.of(JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED);

  // Another tenant's job is locked by nobody and reads as no job at all; so does a job retention
  // has started deleting (PostgresRetention), which must never run again half-deleted.
  private static final String LOCK_JOB =
      """
      SELECT tenant, status, version, queue, priority, concurrency_key, concurrency_limit,
             on_task_failure, tasks_failed FROM jobs
       WHERE id = ? AND (?::text IS NULL OR tenant = ?::text) AND NOT deleting
         FOR UPDATE
      """;

  private static final String LOCK_TASK =
      "SELECT status, attempt, error FROM tasks WHERE job_id = ? AND seq = ? FOR UPDATE";

  // lease_epoch is kept: the fence only ever grows, so a claim from before the failure stays stale.
  private static final String REQUEUE_TASK =
      """
      UPDATE tasks
         SET status = 'QUEUED', attempt = 0, worker_id = NULL, lease_expires_at = NULL,
             not_before = NULL, output = NULL, error = NULL, progress = 0, progress_stage = NULL,
             progress_message = NULL, progress_at = NULL, started_at = NULL, finished_at = NULL,
             version = version + 1
       WHERE job_id = ? AND seq = ? AND status = 'FAILED'
      """;

  private static final String REVIVE_CANCELLED =
      """
      UPDATE tasks SET status = 'QUEUED', not_before = NULL, version = version + 1
       WHERE job_id = ? AND status = 'CANCELLED'
      """;

  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresTenantQuota quotas = new PostgresTenantQuota();

  /** What a requeue did, or why it did nothing. */
  public sealed interface Outcome permits Requeued, Refused {}

  /**
   * The task is QUEUED again.
   *
   * @param from the job's status before
   * @param to the job's status now: QUEUED when it must be dispatched, FAILED while other failed
   *     tasks hold it, or QUEUED already before
   * @param revived tasks that had been cancelled by the job's failure and are QUEUED again
   * @param queue the Redis stream its tasks go back on: the job's queue, in its priority band, on
   *     its concurrency key's stream when it has one, whose limit {@code keyLimit} is (else 0)
   */
  public record Requeued(
      UUID jobId,
      int seq,
      String queue,
      JobStatus from,
      JobStatus to,
      long version,
      int revived,
      int keyLimit)
      implements Outcome {
    /** True when the job was FAILED and is open again, so all its QUEUED tasks need dispatching. */
    public boolean reopened() {
      return from == JobStatus.FAILED && to == JobStatus.QUEUED;
    }
  }

  /** Why nothing was changed. */
  public enum Reason {
    NO_JOB,
    NO_TASK,
    VERSION_MISMATCH,
    JOB_NOT_REQUEUABLE,
    TASK_NOT_FAILED,
    /** Reopening the FAILED job would take its tenant past its quota of active jobs. */
    OVER_QUOTA
  }

  /** Nothing was changed; the states seen are null where not read. */
  public record Refused(Reason reason, JobStatus jobStatus, long jobVersion, TaskStatus taskStatus)
      implements Outcome {}

  /**
   * Requeues task {@code seq} of the job if the job is in {@code scope}, the task is FAILED and the
   * job is {@link #REQUEUABLE} (and at {@code expectedVersion} when given); {@code by} names who
   * asked, for the event log. A requeue that reopens a FAILED job makes it active again, so it
   * needs a free place in the quota of the job's tenant ({@code quotaOf}, null: no quota), checked
   * under the tenant's usage row lock that the job's status change then counts against.
   */
  public Outcome requeue(
      Connection c,
      TenantScope scope,
      UUID jobId,
      int seq,
      Long expectedVersion,
      String by,
      Function<String, Integer> quotaOf)
      throws SQLException {
    LockedJob job = lockJob(c, scope, jobId);
    if (job == null) {
      return new Refused(Reason.NO_JOB, null, 0, null);
    }
    if (expectedVersion != null && expectedVersion != job.version()) {
      return new Refused(Reason.VERSION_MISMATCH, job.status(), job.version(), null);
    }
    if (!REQUEUABLE.contains(job.status())) {
      return new Refused(Reason.JOB_NOT_REQUEUABLE, job.status(), job.version(), null);
    }
    LockedTask task = lockTask(c, jobId, seq);
    if (task == null || task.status() != TaskStatus.FAILED) {
      return new Refused(
          task == null ? Reason.NO_TASK : Reason.TASK_NOT_FAILED,
          job.status(),
          job.version(),
          task == null ? null : task.status());
    }
    JobStatus to = nextStatus(job.status(), job.onTaskFailure(), job.tasksFailed());
    boolean reopens = job.status() == JobStatus.FAILED && to == JobStatus.QUEUED;
    Integer quota = reopens ? quotaOf.apply(job.tenant()) : null;
    if (quota != null && !quotas.tryHold(c, job.tenant(), quota)) {
      return new Refused(Reason.OVER_QUOTA, job.status(), job.version(), task.status());
    }
    requeueTask(c, jobId, seq);
    long version = updateJob(c, jobId, job, to, seq);
    int revived = reopens ? revive(c, jobId) : 0;
    var detail =
        Json.object()
            .put("seq", seq)
            .put("previousAttempt", task.attempt())
            .put("previousError", task.error())
            .put("revivedTasks", revived)
            .put("by", by);
    transitions.event(c, jobId, version, JobEventKind.REQUEUE, Json.write(detail));
    return new Requeued(
        jobId, seq, job.queue(), job.status(), to, version, revived, job.keyLimit());
  }

  /** The job's status after one of its failed tasks is requeued. */
  static JobStatus nextStatus(JobStatus current, String onTaskFailure, int tasksFailed) {
    return switch (current) {
      case RUNNING -> JobStatus.QUEUED;
      case FAILED ->
          "continue".equals(onTaskFailure) || tasksFailed <= 1
              ? JobStatus.QUEUED
              : JobStatus.FAILED;
      default -> current;
    };
  }

  private record LockedJob(
      String tenant,
      JobStatus status,
      long version,
      String queue,
      int keyLimit,
      String onTaskFailure,
      int tasksFailed) {}

  private record LockedTask(TaskStatus status, int attempt, String error) {}

  private static LockedJob lockJob(Connection c, TenantScope scope, UUID jobId)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK_JOB)) {
      ps.setObject(1, jobId);
      scope.bind(ps, 2);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new LockedJob(
            rs.getString("tenant"),
            JobStatus.valueOf(rs.getString("status")),
            rs.getLong("version"),
            PriorityBand.stream(
                rs.getString("queue"), rs.getInt("priority"), rs.getString("concurrency_key")),
            rs.getInt("concurrency_limit"),
            rs.getString("on_task_failure"),
            rs.getInt("tasks_failed"));
      }
    }
  }

  private static LockedTask lockTask(Connection c, UUID jobId, int seq) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK_TASK)) {
      ps.setObject(1, jobId);
      ps.setInt(2, seq);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new LockedTask(
            TaskStatus.valueOf(rs.getString("status")),
            rs.getInt("attempt"),
            rs.getString("error"));
      }
    }
  }

  private static void requeueTask(Connection c, UUID jobId, int seq) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(REQUEUE_TASK)) {
      ps.setObject(1, jobId);
      ps.setInt(2, seq);
      if (ps.executeUpdate() != 1) {
        throw new SluiceException("task " + seq + " of job " + jobId + " changed under its lock");
      }
    }
  }

  private long updateJob(Connection c, UUID jobId, LockedJob job, JobStatus to, int seq)
      throws SQLException {
    return transitions
        .requeued(c, jobId, job.version(), job.status(), to, seq)
        .orElseThrow(
            // A FAILED task whose job counts no failure: the counters disagree with the rows.
            () ->
                new SluiceException(
                    "job "
                        + jobId
                        + " counts "
                        + job.tasksFailed()
                        + " failed task(s) at version "
                        + job.version()
                        + " but has a FAILED task; requeue refused"));
  }

  private static int revive(Connection c, UUID jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(REVIVE_CANCELLED)) {
      ps.setObject(1, jobId);
      return ps.executeUpdate();
    }
  }
}
