package io.sluice.store;

import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/**
 * The job state machine: every legal change of {@code jobs.status}, each a named operation that is
 * one statement. The statement is the compare-and-set (fenced by the current status, and by the
 * version where the caller holds one) and writes the {@link JobEventKind#STATUS} event in the same
 * statement, so a status never changes without its event. Each returns the job's new version, or
 * empty when the fence refused and nothing was written.
 *
 * <pre>
 *   operation       from                 to
 *   submitted       (insert)             QUEUED
 *   dispatched      QUEUED               RUNNING
 *   collecting      QUEUED, RUNNING      COLLECTING   (every task finished; not a pipeline)
 *   split           WAITING              QUEUED       (a stage, with its tasks)
 *   stageCancelled  WAITING … COLLECTING CANCELLED    (a stage whose pipeline ended)
 *   pipelineSucceeded QUEUED, RUNNING    SUCCEEDED    (a pipeline, every stage succeeded)
 *   collected       COLLECTING @version  SUCCEEDED
 *   collectFailed   COLLECTING @version  FAILED
 *   failedByTask    QUEUED, RUNNING      FAILED
 *   cancelled       QUEUED, RUNNING      CANCELLED    (@version when given)
 *   requeued        @version: RUNNING → QUEUED, FAILED → QUEUED (reopened), FAILED → FAILED,
 *                   QUEUED → QUEUED
 * </pre>
 *
 * <p>Each runs in the caller's transaction, so it commits with the task writes it belongs to. The
 * old status is read under the row lock of the statement itself: two competing transitions queue on
 * that lock and the second re-checks its fence against the first one's result.
 */
public final class PostgresJobTransitions {
  /** The error a cancelled job carries. */
  public static final String CANCELLED_BY_REQUEST = "cancelled by request";

  // Appended to every transition: the status event of the moved row, none when nothing moved. A
  // requeue that leaves the status as it was moves the version but writes no status event.
  private static final String LOGGED =
      """
      , logged AS (
        INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
        SELECT id, version, ?, old_status, status, ?::jsonb FROM moved
         WHERE old_status IS DISTINCT FROM status
      )
      SELECT version FROM moved
      """;

  // Each transition is one UPDATE of the locked row whose WHERE is its fence, and its event. The
  // parameters are those of SET, then the job's id, then those of the fence.
  private static String transition(String set, String fence) {
    return """
        WITH moved AS (
          UPDATE jobs j SET %s, version = j.version + 1, updated_at = now()
            FROM (SELECT id, status AS old_status FROM jobs WHERE id = ? FOR UPDATE) o
           WHERE j.id = o.id AND %s
          RETURNING j.id, o.old_status, j.status, j.version
        )
        """
            .formatted(set, fence)
        + LOGGED;
  }

  // The same for many rows in one statement: locked in id order (every writer of many job rows at
  // once takes them in that order, so two such statements cannot deadlock), one event each. The
  // fence is judged on the locked row (the newest version, as the lock waited for it) behind a
  // materialized CTE, so no status predicate reaches a scan of jobs: the planner would otherwise
  // find the rows through the partial index jobs_active, reading every entry a status change ever
  // left there (no autovacuum prunes them here) instead of the few rows asked for. Every row is
  // found through the primary key. The parameters are the fence's, the ids, then SET's.
  private static String transitionAll(String set, String fence) {
    return """
        WITH o AS MATERIALIZED (
          SELECT j.id, j.status AS old_status, %2$s AS go FROM jobs j WHERE j.id = ANY(?)
           ORDER BY j.id FOR UPDATE OF j
        ), moved AS (
          UPDATE jobs j SET %1$s, version = j.version + 1, updated_at = now()
            FROM o
           WHERE j.id = o.id AND o.go
          RETURNING j.id, o.old_status, j.status, j.version
        ), logged AS (
          INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
          SELECT id, version, ?, old_status, status, NULL FROM moved
           WHERE old_status IS DISTINCT FROM status
        )
        SELECT id FROM moved
        """
        .formatted(set, fence);
  }

  private static final String FINISHED = "finished_at = now()";

  private static final String DISPATCHED_SET =
      "status = 'RUNNING', started_at = COALESCE(j.started_at, now())";
  private static final String DISPATCHED = transition(DISPATCHED_SET, "j.status = 'QUEUED'");
  private static final String DISPATCHED_ALL = transitionAll(DISPATCHED_SET, "j.status = 'QUEUED'");

  // A stage whose dependencies all succeeded gets its tasks: WAITING → QUEUED with its task count.
  private static final String SPLIT =
      transition("status = 'QUEUED', task_count = ?, started_at = now()", "j.status = 'WAITING'");

  // A stage that will never finish (its pipeline failed or was cancelled); a collecting one loses
  // its gate, so its collector's late commit changes nothing.
  private static final String STAGE_CANCELLED =
      transition(
          "status = 'CANCELLED', error = COALESCE(?, j.error), " + FINISHED,
          "j.status IN ('WAITING', 'QUEUED', 'RUNNING', 'COLLECTING')");

  // A pipeline whose every stage succeeded; its result names its final stages.
  private static final String PIPELINE_SUCCEEDED =
      transition(
          "status = 'SUCCEEDED', result = ?::jsonb, finished_at = now()",
          "j.status IN ('QUEUED', 'RUNNING') AND j.stage_count > 0");

  // A pipeline's task count grows by each stage's as the stage is split.
  private static final String GROW = "UPDATE jobs SET task_count = task_count + ? WHERE id = ?";

  // The collection gate: it also checks PostgreSQL's counts, so an early or duplicate trigger
  // changes nothing.
  private static final String COLLECTING =
      transition(
          // A job whose tasks all finished before its dispatch was recorded started nonetheless.
          "status = 'COLLECTING', started_at = COALESCE(j.started_at, now())",
          "j.status IN ('QUEUED', 'RUNNING') AND j.stage_count = 0"
              + " AND j.tasks_succeeded + j.tasks_failed = j.task_count");

  private static final String COLLECTED =
      transition(
          "status = 'SUCCEEDED', result = COALESCE(?::jsonb, j.result), " + FINISHED,
          "j.status = 'COLLECTING' AND j.version = ?");

  private static final String COLLECT_FAILED =
      transition(
          "status = 'FAILED', error = COALESCE(?, j.error), " + FINISHED,
          "j.status = 'COLLECTING' AND j.version = ?");

  // collected and collectFailed of many collections in one statement, each row fenced by its own
  // gate's version: a row whose fence misses is simply not moved, the others are. Rows are locked
  // in id order (two coordinators committing overlapping batches queue instead of deadlocking).
  static final String COLLECTIONS_ENDED =
      """
      WITH i AS MATERIALIZED (
        SELECT * FROM unnest(?::uuid[], ?::bigint[], ?::text[], ?::text[], ?::text[])
                   AS i(id, version, status, result, error)
      ), locked AS MATERIALIZED (
        -- The fence is judged on the locked row: see transitionAll.
        -- It carries the input's columns, so the update joins the jobs by their key alone, never
        -- the input against itself (a nested loop over two CTEs is quadratic in the batch).
        SELECT j.id, j.status = 'COLLECTING' AND j.version = i.version AS go,
               i.status AS new_status, i.result, i.error
          FROM i JOIN jobs j ON j.id = i.id
         ORDER BY j.id
           FOR UPDATE OF j
      ), moved AS (
        UPDATE jobs j SET status = l.new_status,
                          result = CASE WHEN l.new_status = 'SUCCEEDED'
                                        THEN COALESCE(l.result::jsonb, j.result) ELSE j.result END,
                          error = CASE WHEN l.new_status = 'FAILED'
                                       THEN COALESCE(l.error, j.error) ELSE j.error END,
                          finished_at = now(), version = j.version + 1, updated_at = now()
          FROM locked l
         WHERE j.id = l.id AND l.go
           AND l.new_status IN ('SUCCEEDED', 'FAILED')
        RETURNING j.id, j.status, j.version, l.error
      ), logged AS (
        INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
        SELECT id, version, ?, 'COLLECTING', status,
               CASE WHEN status = 'FAILED' AND error IS NOT NULL
                    THEN jsonb_build_object('error', error) END
          FROM moved
      )
      SELECT id, version FROM moved
      """;

  private static final String FAILED_BY_TASK =
      transition(
          "status = 'FAILED', error = COALESCE(?, j.error), " + FINISHED,
          "j.status IN ('QUEUED', 'RUNNING')");

  private static final String CANCELLED =
      transition(
          "status = 'CANCELLED', error = COALESCE(?, j.error), " + FINISHED,
          "j.status IN ('QUEUED', 'RUNNING') AND (?::bigint IS NULL OR j.version = ?::bigint)");

  // A reopened job (FAILED → QUEUED) is no longer finished: its error and finish time go.
  private static final String REQUEUED =
      transition(
          """
          status = ?, tasks_failed = j.tasks_failed - 1,
          error = CASE WHEN ? THEN NULL ELSE j.error END,
          finished_at = CASE WHEN ? THEN NULL ELSE j.finished_at END""",
          "j.version = ? AND j.status = ? AND j.tasks_failed > 0");

  private static final String SUBMITTED =
      """
      INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
      VALUES (?, 1, ?, NULL, ?, NULL)
      """;

  private static final String SUBMITTED_ALL =
      """
      INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
      SELECT id, 1, ?, NULL, ?, NULL FROM unnest(?::uuid[]) AS n(id)
      """;

  private static final String EVENT =
      """
      INSERT INTO job_events (job_id, job_version, kind, from_status, to_status, detail)
      VALUES (?, ?, ?, NULL, NULL, ?::jsonb)
      """;

  /** Records the birth of a job just inserted QUEUED at version 1, in its insert's transaction. */
  public void submitted(Connection c, UUID jobId) throws SQLException {
    born(c, jobId, JobStatus.QUEUED);
  }

  /** Records the birth of a row just inserted at version 1 in {@code status} (a stage: WAITING). */
  public void born(Connection c, UUID jobId, JobStatus status) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SUBMITTED)) {
      ps.setObject(1, jobId);
      ps.setString(2, JobEventKind.STATUS.name());
      ps.setString(3, status.name());
      ps.executeUpdate();
    }
  }

  /** Records the birth of many rows just inserted at version 1 in {@code status}, one statement. */
  public void bornAll(Connection c, Collection<UUID> ids, JobStatus status) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SUBMITTED_ALL)) {
      ps.setString(1, JobEventKind.STATUS.name());
      ps.setString(2, status.name());
      ps.setArray(3, c.createArrayOf("uuid", ids.toArray()));
      ps.executeUpdate();
    }
  }

  /**
   * A stage WAITING → QUEUED with its {@code taskCount} tasks just inserted, in their transaction;
   * its pipeline's task count grows by as many.
   */
  public OptionalLong split(Connection c, UUID stageId, UUID pipelineId, int taskCount)
      throws SQLException {
    OptionalLong moved = move(c, SPLIT, null, taskCount, stageId);
    if (moved.isPresent()) {
      try (PreparedStatement ps = c.prepareStatement(GROW)) {
        ps.setInt(1, taskCount);
        ps.setObject(2, pipelineId);
        ps.executeUpdate();
      }
    }
    return moved;
  }

  /** A stage that has not finished → CANCELLED with {@code why}. */
  public OptionalLong stageCancelled(Connection c, UUID stageId, String why) throws SQLException {
    return move(c, STAGE_CANCELLED, errorDetail(why), why, stageId);
  }

  /** A pipeline QUEUED or RUNNING → SUCCEEDED with its result, once every stage succeeded. */
  public OptionalLong pipelineSucceeded(Connection c, UUID pipelineId, String resultJson)
      throws SQLException {
    return move(c, PIPELINE_SUCCEEDED, null, resultJson, pipelineId);
  }

  /** QUEUED → RUNNING once the job's tasks are on their Redis queue. */
  public OptionalLong dispatched(Connection c, UUID jobId) throws SQLException {
    return move(c, DISPATCHED, null, jobId);
  }

  /** {@link #dispatched} of many jobs in one statement; returns the ids of those it moved. */
  public Set<UUID> dispatchedAll(Connection c, Collection<UUID> jobIds) throws SQLException {
    Set<UUID> moved = new HashSet<>();
    if (jobIds.isEmpty()) {
      return moved;
    }
    try (PreparedStatement ps = c.prepareStatement(DISPATCHED_ALL)) {
      ps.setArray(1, c.createArrayOf("uuid", jobIds.toArray()));
      ps.setString(2, JobEventKind.STATUS.name());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          moved.add(rs.getObject(1, UUID.class));
        }
      }
    }
    return moved;
  }

  /** QUEUED or RUNNING → COLLECTING, only when every task is finished: the collection gate. */
  public OptionalLong collecting(Connection c, UUID jobId) throws SQLException {
    return move(c, COLLECTING, null, jobId);
  }

  /** COLLECTING at {@code version} → SUCCEEDED with the collector's result. */
  public OptionalLong collected(Connection c, UUID jobId, long version, String resultJson)
      throws SQLException {
    return move(c, COLLECTED, null, resultJson, jobId, version);
  }

  /** COLLECTING at {@code version} → FAILED with the collector's error. */
  public OptionalLong collectFailed(Connection c, UUID jobId, long version, String error)
      throws SQLException {
    return move(c, COLLECT_FAILED, errorDetail(error), error, jobId, version);
  }

  /**
   * How a collection ends: SUCCEEDED with the collector's result, or FAILED with its error, at the
   * version of the gate its collector ran under.
   */
  public record CollectionEnd(
      UUID jobId, long version, JobStatus to, String resultJson, String error) {
    public CollectionEnd {
      if (to != JobStatus.SUCCEEDED && to != JobStatus.FAILED) {
        throw new IllegalArgumentException("a collection does not end " + to);
      }
    }
  }

  /**
   * {@link #collected} and {@link #collectFailed} of many collections in one statement, each fenced
   * by its own gate's version: the new version of each job that moved; one whose fence missed
   * (taken over, already collected, its stage cancelled) is not in the answer and nothing of it was
   * written.
   */
  public Map<UUID, Long> collectionsEnded(Connection c, List<CollectionEnd> ends)
      throws SQLException {
    List<UUID> ids = new ArrayList<>(ends.size());
    List<Long> versions = new ArrayList<>(ends.size());
    List<String> statuses = new ArrayList<>(ends.size());
    List<String> results = new ArrayList<>(ends.size());
    List<String> errors = new ArrayList<>(ends.size());
    for (CollectionEnd end : ends) {
      ids.add(end.jobId());
      versions.add(end.version());
      statuses.add(end.to().name());
      results.add(end.to() == JobStatus.SUCCEEDED ? end.resultJson() : null);
      errors.add(end.to() == JobStatus.FAILED ? end.error() : null);
    }
    try (PreparedStatement ps = c.prepareStatement(COLLECTIONS_ENDED)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      ps.setArray(2, c.createArrayOf("bigint", versions.toArray()));
      ps.setArray(3, c.createArrayOf("text", statuses.toArray()));
      ps.setArray(4, c.createArrayOf("text", results.toArray()));
      ps.setArray(5, c.createArrayOf("text", errors.toArray()));
      ps.setString(6, JobEventKind.STATUS.name());
      Map<UUID, Long> moved = new HashMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          moved.put(rs.getObject(1, UUID.class), rs.getLong(2));
        }
      }
      return moved;
    }
  }

  /** QUEUED or RUNNING → FAILED because a task ran out of attempts under {@code fail}. */
  public OptionalLong failedByTask(Connection c, UUID jobId, String error) throws SQLException {
    return move(c, FAILED_BY_TASK, errorDetail(error), error, jobId);
  }

  /**
   * QUEUED or RUNNING → CANCELLED, at {@code expectedVersion} when given (null: any version). The
   * caller cancels the job's tasks in the same transaction.
   */
  public OptionalLong cancelled(Connection c, UUID jobId, Long expectedVersion)
      throws SQLException {
    return move(
        c,
        CANCELLED,
        errorDetail(CANCELLED_BY_REQUEST),
        CANCELLED_BY_REQUEST,
        jobId,
        expectedVersion,
        expectedVersion);
  }

  /**
   * One failed task of a job at {@code version} and {@code from} is queued again: the job counts
   * one failure less and becomes {@code to}. A status event (with the task's {@code seq}) is
   * written only when the status changes; FAILED → QUEUED reopens the job.
   *
   * @throws IllegalArgumentException for a pair that is not a requeue's
   */
  public OptionalLong requeued(
      Connection c, UUID jobId, long version, JobStatus from, JobStatus to, int seq)
      throws SQLException {
    if (!isRequeue(from, to)) {
      throw new IllegalArgumentException("a requeue does not move a job " + from + " → " + to);
    }
    boolean reopens = from == JobStatus.FAILED && to == JobStatus.QUEUED;
    String detail = Json.write(Json.object().put("reason", "requeue").put("seq", seq));
    return move(c, REQUEUED, detail, to.name(), reopens, reopens, jobId, version, from.name());
  }

  static boolean isRequeue(JobStatus from, JobStatus to) {
    return switch (from) {
      case RUNNING, QUEUED -> to == JobStatus.QUEUED;
      case FAILED -> to == JobStatus.QUEUED || to == JobStatus.FAILED;
      default -> false;
    };
  }

  /** Appends an event that changes no status ({@code PATCH}, {@code REQUEUE}). */
  void event(Connection c, UUID jobId, long version, JobEventKind kind, String detailJson)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(EVENT)) {
      ps.setObject(1, jobId);
      ps.setLong(2, version);
      ps.setString(3, kind.name());
      ps.setString(4, detailJson);
      ps.executeUpdate();
    }
  }

  private static String errorDetail(String error) {
    return error == null ? null : Json.write(Json.object().put("error", error));
  }

  /** Runs a transition: its own parameters in order, then the event's kind and detail. */
  private static OptionalLong move(Connection c, String sql, String detail, Object... params)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      for (Object p : params) {
        ps.setObject(i++, p);
      }
      ps.setString(i++, JobEventKind.STATUS.name());
      ps.setString(i, detail);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
      }
    }
  }
}
