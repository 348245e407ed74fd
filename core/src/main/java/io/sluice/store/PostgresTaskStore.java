package io.sluice.store;

import static io.sluice.store.Sql.instant;
import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.longs;
import static io.sluice.store.Sql.texts;
import static io.sluice.store.Sql.uuids;

import io.sluice.api.Collector.TaskOutcome;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The {@code tasks} table. Every state change is one statement whose {@code WHERE} is the
 * compare-and-set: claims check the status, completions and renewals check the claim's {@code
 * lease_epoch}, so a worker that lost its lease changes nothing.
 */
public final class PostgresTaskStore {
  // Taking over a lease that expired is a reclaim too, and is logged as one in the same statement.
  // No task of a paused queue is claimed: the pause's commit is seen by every claim that starts
  // after it, whatever the worker read from Redis before it (PostgresQueueStore hands those back).
  // The status and worker a reclaim logs are read by the locking scan itself (the row version it
  // locked, which the update then changes), not by a second lookup of each row; so is whether it
  // may be claimed, and the update reaches the rows by their key alone (see COMPLETE_CTES).
  static final String CLAIM =
      """
      WITH locked AS (
        SELECT t.job_id, t.seq, t.status AS previous_status, t.worker_id AS previous_worker,
               t.status = 'QUEUED' OR (t.status = 'RETRY_WAIT' AND t.not_before <= now())
                 OR (t.status = 'RUNNING' AND t.lease_expires_at < now()) AS claimable
          FROM tasks t
          JOIN unnest(?::uuid[], ?::int[]) AS c(job_id, seq) ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      ), with_job AS MATERIALIZED (
        SELECT l.job_id, l.seq, l.previous_status, l.previous_worker,
               l.claimable AND j.status IN ('QUEUED', 'RUNNING')
                 AND NOT EXISTS (SELECT 1 FROM queues q WHERE q.name = j.queue AND q.paused) AS go,
               j.type, j.max_attempts, j.version AS job_version, j.task_timeout_ms,
               j.retry_base_ms, j.retry_max_ms, j.trace_parent
          FROM locked l JOIN jobs j ON j.id = l.job_id
      ), claimed AS (
        UPDATE tasks t
           SET status = 'RUNNING', attempt = t.attempt + 1, lease_epoch = t.lease_epoch + 1,
               worker_id = ?, lease_expires_at = now() + ? * interval '1 millisecond',
               started_at = now(), not_before = NULL, version = t.version + 1
          FROM with_job l
         WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
        RETURNING t.job_id, t.seq, t.attempt, t.lease_epoch, t.input::text AS input, l.type,
                  l.max_attempts, l.job_version, l.previous_status, l.previous_worker,
                  l.task_timeout_ms, l.retry_base_ms, l.retry_max_ms, t.error AS last_error,
                  l.trace_parent
      ), reclaimed AS (
        INSERT INTO job_events (job_id, job_version, kind, detail)
        SELECT job_id, job_version, ?,
               jsonb_build_object('seq', seq, 'leaseEpoch', lease_epoch - 1,
                                  'workerId', previous_worker, 'claimedBy', ?::text)
          FROM claimed WHERE previous_status = 'RUNNING'
      )
      SELECT job_id, seq, attempt, lease_epoch, input, type, max_attempts, task_timeout_ms,
             retry_base_ms, retry_max_ms, last_error, trace_parent
        FROM claimed
      """;

  // Rows are locked in (job_id, seq) order first, as in CLAIM and RENEW: a renewal, a completion
  // batch and a claim that touch the same rows then queue up instead of deadlocking. A completion
  // of status QUEUED is a hand-back (its handler was told to stop): the task is queued again
  // without spending the attempt its claim counted, or CANCELLED when its job is no longer active.
  // The fence is judged on the locked row version (the one the update then changes), and the locked
  // rows carry the input's columns, then the job's (a CTE of their own), so the update reaches the
  // tasks by their key alone. A generic plan guesses ten rows for any unnest and a handful for the
  // partial index of running tasks; given another way in (the input joined against the locked
  // rows, the tasks read by job id then filtered by seq, the whole running index scanned and each
  // entry compared with every locked row) it took it, quadratic in the batch: 640 ms for 1,000
  // completions late in a 1,000,000-task job (BatchStatementPlansIT).
  private static final String COMPLETE_CTES =
      """
      WITH c AS (
        SELECT * FROM unnest(?::uuid[], ?::int[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::int8[])
                 AS c(job_id, seq, epoch, status, output, error, delay_ms)
      ), locked AS (
        SELECT t.job_id, t.seq, t.status = 'RUNNING' AND t.lease_epoch = c.epoch AS go,
               c.status AS new_status, c.output, c.error, c.delay_ms
          FROM tasks t JOIN c ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      ), with_job AS MATERIALIZED (
        SELECT l.*, j.status AS job_status, j.version AS job_version
          FROM locked l JOIN jobs j ON j.id = l.job_id
      ), done AS (
        UPDATE tasks t
           SET status = CASE WHEN l.new_status <> 'QUEUED' THEN l.new_status
                             WHEN l.job_status IN ('QUEUED', 'RUNNING') THEN 'QUEUED'
                             ELSE 'CANCELLED' END,
               attempt = CASE WHEN l.new_status = 'QUEUED' THEN t.attempt - 1 ELSE t.attempt END,
               worker_id = CASE WHEN l.new_status = 'QUEUED' THEN NULL ELSE t.worker_id END,
               output = l.output::jsonb,
               error = CASE WHEN l.new_status = 'QUEUED' THEN t.error ELSE l.error END,
               not_before = CASE WHEN l.new_status = 'RETRY_WAIT'
                                 THEN now() + l.delay_ms * interval '1 millisecond' END,
               finished_at = CASE WHEN l.new_status IN ('SUCCEEDED', 'FAILED') THEN now() END,
               progress = CASE WHEN l.new_status = 'SUCCEEDED' THEN 1 ELSE t.progress END,
               lease_expires_at = NULL, version = t.version + 1
          FROM with_job l
         WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
        RETURNING t.job_id, t.seq, t.lease_epoch, t.status, l.error AS reason, l.job_version
      ), handed_back AS (
        INSERT INTO job_events (job_id, job_version, kind, detail)
        SELECT job_id, job_version, ?,
               jsonb_build_object('seq', seq, 'leaseEpoch', lease_epoch, 'reason', reason)
          FROM done WHERE status = 'QUEUED'
      )
      """;

  private static final String COMPLETE =
      COMPLETE_CTES
          + """
      SELECT job_id, seq, lease_epoch, status FROM done
      """;

  // The batch's task rows and its jobs' counters in one statement (one round trip, one plan): the
  // counters add what `done` applied, so a completion whose fence failed counts nowhere. Jobs are
  // updated in id order, as PostgresJobStore.addCounts does, so concurrent batches queue up on
  // them.
  static final String COMPLETE_AND_COUNT =
      COMPLETE_CTES
          + """
      , delta AS (
        SELECT job_id AS id, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS s,
               count(*) FILTER (WHERE status = 'FAILED')::int AS f
          FROM done WHERE status IN ('SUCCEEDED', 'FAILED') GROUP BY job_id ORDER BY job_id
      )"""
          + PostgresJobStore.COUNT_DELTAS
          + """
      SELECT false AS is_job, job_id, seq, lease_epoch, status, NULL::int AS task_count,
             NULL::int AS tasks_succeeded, NULL::int AS tasks_failed, NULL::text AS on_task_failure,
             NULL::uuid AS parent_id
        FROM done
      UNION ALL
      SELECT true, id, NULL, NULL, status, task_count, tasks_succeeded, tasks_failed, on_task_failure,
             parent_id
        FROM counted
      """;

  static final String RENEW =
      """
      WITH c AS (
        SELECT * FROM unnest(?::uuid[], ?::int[], ?::int8[]) AS c(job_id, seq, epoch)
      ), locked AS (
        SELECT t.job_id, t.seq, t.status = 'RUNNING' AND t.lease_epoch = c.epoch AS go
          FROM tasks t JOIN c ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      )
      UPDATE tasks t SET lease_expires_at = now() + ? * interval '1 millisecond'
        FROM locked l
       WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id AND j.status IN ('QUEUED', 'RUNNING'))
      RETURNING t.job_id, t.seq
      """;

  private static final String FINISHED_OF =
      """
      SELECT t.job_id, t.seq FROM tasks t
        JOIN unnest(?::uuid[], ?::int[]) AS r(job_id, seq) ON t.job_id = r.job_id AND t.seq = r.seq
       WHERE t.status IN ('SUCCEEDED', 'FAILED')
       ORDER BY t.job_id, t.seq
      """;

  private static final String QUEUED_SEQS =
      "SELECT seq FROM tasks WHERE job_id = ? AND status = 'QUEUED' ORDER BY seq";

  private static final String CANCEL_WAITING =
      """
      UPDATE tasks SET status = 'CANCELLED', version = version + 1
       WHERE job_id = ? AND status IN ('QUEUED', 'RETRY_WAIT')
      """;

  // A running task's lease ends too: its renewal and its completion are refused from now on.
  private static final String CANCEL_UNFINISHED =
      """
      UPDATE tasks SET status = 'CANCELLED', lease_expires_at = NULL, not_before = NULL,
                       finished_at = now(), version = version + 1
       WHERE job_id = ? AND status IN ('QUEUED', 'RETRY_WAIT', 'RUNNING')
      """;

  private static final String OUTCOMES =
      """
      SELECT seq, status, output::text AS output, error FROM tasks
       WHERE job_id = ? AND status IN ('SUCCEEDED', 'FAILED') ORDER BY seq
      """;

  private static final String PAGE =
      """
      SELECT seq, status, attempt, worker_id, progress, output::text AS output, error,
             started_at, finished_at, progress_stage, progress_message
        FROM tasks WHERE job_id = ? AND seq > ? AND (?::text IS NULL OR status = ?::text)
         AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = tasks.job_id
                                            AND (?::text IS NULL OR j.tenant = ?::text))
       ORDER BY seq LIMIT ?
      """;

  /**
   * Streams the splitter's inputs for {@code stage} into the task rows of row {@code jobId} (a
   * one-stage job or a stage of a pipeline); returns how many were written.
   */
  public int insertTasks(Connection c, UUID jobId, Stage stage, Splitter splitter, Payload payload)
      throws Exception {
    try (TaskCopy copy = new TaskCopy(c, jobId)) {
      splitter.split(stage, payload, copy);
      return copy.finish();
    }
  }

  /** Claims those of {@code refs} that are free to run, each with a new lease epoch. */
  public List<ClaimedTask> claim(
      Connection c, String workerId, Duration lease, Collection<TaskRef> refs) throws SQLException {
    List<ClaimedTask> claimed = new ArrayList<>(refs.size());
    try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
      ps.setArray(1, uuids(c, refs, TaskRef::jobId));
      ps.setArray(2, ints(c, refs, TaskRef::seq));
      ps.setString(3, workerId);
      ps.setLong(4, lease.toMillis());
      ps.setString(5, JobEventKind.RECLAIM.name());
      ps.setString(6, workerId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          claimed.add(
              new ClaimedTask(
                  rs.getObject("job_id", UUID.class),
                  rs.getInt("seq"),
                  rs.getInt("attempt"),
                  rs.getLong("lease_epoch"),
                  Json.read(rs.getString("input")),
                  rs.getString("type"),
                  rs.getInt("max_attempts"),
                  new TimeLimits(
                      TimeLimits.duration(rs.getLong("task_timeout_ms"), rs.wasNull()),
                      null,
                      TimeLimits.duration(rs.getLong("retry_base_ms"), rs.wasNull()),
                      TimeLimits.duration(rs.getLong("retry_max_ms"), rs.wasNull())),
                  rs.getString("last_error"),
                  rs.getString("trace_parent")));
        }
      }
    }
    return claimed;
  }

  /**
   * Applies completions whose fence still holds; returns those applied (the rest were zombies),
   * each with the status it was applied as.
   */
  public List<Completion> complete(Connection c, List<Completion> completions) throws SQLException {
    return completeBatch(c, completions, false).applied();
  }

  /**
   * What {@link #completeAndCount} applied.
   *
   * @param applied the completions whose fence held, each as the status it was applied as
   * @param counts the counters, after this batch, of every job a terminal completion counted in
   */
  public record Applied(List<Completion> applied, List<PostgresJobStore.Counts> counts) {}

  /**
   * Applies completions whose fence still holds and adds the terminal ones to their jobs' counters
   * (and to their pipelines'), in one statement: {@link #complete} and {@link
   * PostgresJobStore#addCounts} in one round trip.
   */
  public Applied completeAndCount(Connection c, List<Completion> completions) throws SQLException {
    return completeBatch(c, completions, true);
  }

  private Applied completeBatch(Connection c, List<Completion> completions, boolean withCounts)
      throws SQLException {
    // Keyed by the epoch too: a batch may hold a stale and a current completion of the same task,
    // and only the one whose fence held was applied.
    record Key(UUID jobId, int seq, long epoch) {}
    var byKey = new HashMap<Key, Completion>();
    completions.forEach(x -> byKey.put(new Key(x.jobId(), x.seq(), x.leaseEpoch()), x));
    List<Completion> applied = new ArrayList<>(completions.size());
    List<PostgresJobStore.Counts> counts = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(withCounts ? COMPLETE_AND_COUNT : COMPLETE)) {
      ps.setArray(1, uuids(c, completions, Completion::jobId));
      ps.setArray(2, ints(c, completions, Completion::seq));
      ps.setArray(3, longs(c, completions, Completion::leaseEpoch));
      ps.setArray(4, texts(c, completions, x -> x.status().name()));
      ps.setArray(5, texts(c, completions, Completion::outputJson));
      ps.setArray(6, texts(c, completions, Completion::error));
      ps.setArray(7, longs(c, completions, Completion::retryDelayMs));
      ps.setString(8, JobEventKind.HANDED_BACK.name());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID jobId = rs.getObject("job_id", UUID.class);
          if (withCounts && rs.getBoolean("is_job")) {
            counts.add(
                new PostgresJobStore.Counts(
                    jobId,
                    JobStatus.valueOf(rs.getString("status")),
                    rs.getInt("task_count"),
                    rs.getInt("tasks_succeeded"),
                    rs.getInt("tasks_failed"),
                    rs.getString("on_task_failure"),
                    rs.getObject("parent_id", UUID.class)));
            continue;
          }
          Completion x = byKey.get(new Key(jobId, rs.getInt("seq"), rs.getLong("lease_epoch")));
          TaskStatus now = TaskStatus.valueOf(rs.getString("status"));
          // A hand-back of a task whose job ended meanwhile is applied as CANCELLED.
          applied.add(
              now == x.status()
                  ? x
                  : new Completion(x.jobId(), x.seq(), x.leaseEpoch(), now, null, x.error(), 0));
        }
      }
    }
    // The job rows come in the statement's order; the callers want them by id, as addCounts
    // returns them for its sorted input.
    counts.sort(Comparator.comparing(PostgresJobStore.Counts::id));
    return new Applied(applied, counts);
  }

  /**
   * Extends the leases still held; returns the tasks whose lease was extended. A task whose job is
   * no longer QUEUED or RUNNING (cancelled, or failed by another task) is not renewed, so its
   * worker tells the handler to stop.
   */
  public List<TaskRef> renew(Connection c, Duration lease, Collection<ClaimedTask> held)
      throws SQLException {
    List<TaskRef> renewed = new ArrayList<>(held.size());
    try (PreparedStatement ps = c.prepareStatement(RENEW)) {
      ps.setArray(1, uuids(c, held, ClaimedTask::jobId));
      ps.setArray(2, ints(c, held, ClaimedTask::seq));
      ps.setArray(3, longs(c, held, ClaimedTask::leaseEpoch));
      ps.setLong(4, lease.toMillis());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          renewed.add(new TaskRef(rs.getObject("job_id", UUID.class), rs.getInt("seq")));
        }
      }
    }
    return renewed;
  }

  /**
   * Streams the sequence numbers of a job's queued tasks, in pages, inside the caller's
   * transaction.
   */
  public void forEachQueuedSeq(Connection c, UUID jobId, int fetchSize, Consumer<Integer> action)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(QUEUED_SEQS)) {
      ps.setFetchSize(fetchSize);
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          action.accept(rs.getInt(1));
        }
      }
    }
  }

  /** The sequence numbers of a job's queued tasks, read in pages of {@code fetchSize}. */
  public int[] queuedSeqs(Connection c, UUID jobId, int fetchSize) throws SQLException {
    List<Integer> seqs = new ArrayList<>();
    forEachQueuedSeq(c, jobId, fetchSize, seqs::add);
    return seqs.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Streams a job's finished tasks in order, inside the caller's transaction. */
  public void forEachOutcome(Connection c, UUID jobId, Consumer<TaskOutcome> action)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(OUTCOMES)) {
      ps.setFetchSize(500);
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          action.accept(
              new TaskOutcome(
                  rs.getInt("seq"),
                  "SUCCEEDED".equals(rs.getString("status")),
                  Json.read(rs.getString("output")),
                  rs.getString("error")));
        }
      }
    }
  }

  /** Marks a job's tasks that have not started as CANCELLED; returns how many. */
  public int cancelWaiting(Connection c, UUID jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CANCEL_WAITING)) {
      ps.setObject(1, jobId);
      return ps.executeUpdate();
    }
  }

  /** Marks every task of a job that has not finished, running ones too, CANCELLED; how many. */
  public int cancelUnfinished(Connection c, UUID jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CANCEL_UNFINISHED)) {
      ps.setObject(1, jobId);
      return ps.executeUpdate();
    }
  }

  /** A page of a job's tasks after {@code afterSeq}, optionally of one status. */
  public List<TaskView> page(
      Connection c, TenantScope scope, UUID jobId, TaskStatus status, int afterSeq, int limit)
      throws SQLException {
    List<TaskView> page = new ArrayList<>(limit);
    try (PreparedStatement ps = c.prepareStatement(PAGE)) {
      String s = status == null ? null : status.name();
      ps.setObject(1, jobId);
      ps.setInt(2, afterSeq);
      ps.setString(3, s);
      ps.setString(4, s);
      scope.bind(ps, 5);
      ps.setInt(7, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          page.add(
              new TaskView(
                  rs.getInt("seq"),
                  TaskStatus.valueOf(rs.getString("status")),
                  rs.getInt("attempt"),
                  rs.getString("worker_id"),
                  rs.getFloat("progress"),
                  Json.read(rs.getString("output")),
                  rs.getString("error"),
                  instant(rs, "started_at"),
                  instant(rs, "finished_at"),
                  rs.getString("progress_stage"), // the phase; the column predates stages
                  rs.getString("progress_message")));
        }
      }
    }
    return page;
  }

  /**
   * Those of {@code refs} whose task has its terminal result committed (SUCCEEDED or FAILED), by
   * job: a redelivered entry of such a task may be one whose worker died between its commit and its
   * fan-in.
   */
  public Map<UUID, List<Integer>> finishedOf(Connection c, Collection<TaskRef> refs)
      throws SQLException {
    Map<UUID, List<Integer>> finished = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(FINISHED_OF)) {
      ps.setArray(1, uuids(c, refs, TaskRef::jobId));
      ps.setArray(2, ints(c, refs, TaskRef::seq));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          finished
              .computeIfAbsent(rs.getObject("job_id", UUID.class), j -> new ArrayList<>())
              .add(rs.getInt("seq"));
        }
      }
    }
    return finished;
  }
}
