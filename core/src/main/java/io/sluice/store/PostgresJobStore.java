package io.sluice.store;

import static io.sluice.store.Sql.instant;
import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.texts;
import static io.sluice.store.Sql.uuids;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The {@code jobs} table: inserts, reads and counters. Status changes and their {@code job_events}
 * rows are {@link PostgresJobTransitions}'.
 */
public final class PostgresJobStore {
  private static final String COLUMNS =
      """
      id, tenant, type, queue, status, version, idempotency_key, request_hash,
      priority, max_attempts, on_task_failure, task_count, tasks_succeeded, tasks_failed,
      result::text AS result, error, created_at, updated_at, finished_at,
      labels::text AS labels, run_at, parent_id, stage_name, stage_idx, depends_on, stage_count,
      started_at, task_timeout_ms, deadline_ms, deadline_at, retry_base_ms, retry_max_ms,
      concurrency_key, concurrency_limit
      """;

  private static final String INSERT =
      """
      INSERT INTO jobs (id, tenant, type, queue, status, payload, idempotency_key, request_hash,
                        priority, max_attempts, on_task_failure, labels, run_at, stage_count,
                        task_timeout_ms, deadline_ms, deadline_at, retry_base_ms, retry_max_ms,
                        concurrency_key, concurrency_limit)
      VALUES (?, ?, ?, ?, 'QUEUED', ?::jsonb, ?, ?, ?, ?, ?, COALESCE(?::jsonb, '{}'::jsonb), ?, ?,
              ?, ?::int8, now() + ?::int8 * interval '1 millisecond', ?, ?, ?, ?)
      ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      """;

  // Many one-stage jobs split beforehand, with their task counts; the rows come back for those
  // whose idempotency key was free.
  private static final String INSERT_MANY =
      """
      INSERT INTO jobs (id, tenant, type, queue, status, payload, idempotency_key, request_hash,
                        priority, max_attempts, on_task_failure, labels, run_at, task_count,
                        task_timeout_ms, deadline_ms, deadline_at, retry_base_ms, retry_max_ms,
                        concurrency_key, concurrency_limit)
      SELECT id, tenant, type, queue, 'QUEUED', payload::jsonb, key, hash, priority, attempts,
             on_failure, COALESCE(labels::jsonb, '{}'::jsonb), run_at, task_count,
             timeout_ms, deadline_ms, now() + deadline_ms * interval '1 millisecond', base_ms, max_ms,
             ckey, climit
        FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                    ?::int[], ?::int[], ?::text[], ?::text[], ?::timestamptz[], ?::int[],
                    ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::text[], ?::int[])
             WITH ORDINALITY
             AS n(id, tenant, type, queue, payload, key, hash, priority, attempts, on_failure,
                  labels, run_at, task_count, timeout_ms, deadline_ms, base_ms, max_ms, ckey,
                  climit, ord)
       ORDER BY ord
      ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id
      """;

  private static final String DELETE = "DELETE FROM jobs WHERE id = ANY(?)";

  private static final String BY_IDS = "SELECT " + COLUMNS + " FROM jobs WHERE id = ANY(?)";

  // A stage of a pipeline: born WAITING, without tasks; it shares its pipeline's tenant, priority,
  // attempts, labels, delayed start and retry backoff, and has no idempotency key or deadline of
  // its
  // own (the pipeline's deadline ends it); its task timeout is its own or the pipeline's; its
  // concurrency key and limit are the pipeline's.
  private static final String INSERT_STAGE =
      """
      INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash, priority,
                        max_attempts, on_task_failure, labels, run_at, parent_id, stage_name,
                        stage_idx, depends_on, task_timeout_ms, retry_base_ms, retry_max_ms,
                        concurrency_key, concurrency_limit)
      SELECT ?, p.tenant, ?, ?, 'WAITING', ?::jsonb, p.request_hash, p.priority, p.max_attempts, ?,
             p.labels, p.run_at, p.id, ?, ?, ?::text[], COALESCE(?::int8, p.task_timeout_ms),
             p.retry_base_ms, p.retry_max_ms, p.concurrency_key, p.concurrency_limit
        FROM jobs p WHERE p.id = ?
      """;

  private static final String STAGES_OF =
      "SELECT " + COLUMNS + " FROM jobs WHERE parent_id = ? ORDER BY stage_idx";

  private static final String PAYLOAD = "SELECT payload::text FROM jobs WHERE id = ?";

  private static final String SET_TASK_COUNT = "UPDATE jobs SET task_count = ? WHERE id = ?";

  private static final String BY_ID = "SELECT " + COLUMNS + " FROM jobs WHERE id = ?";

  // What the API shows as a job: a one-stage job or a pipeline, never a pipeline's stage row.
  private static final String BY_ID_IN_SCOPE =
      "SELECT "
          + COLUMNS
          + " FROM jobs WHERE id = ? AND parent_id IS NULL AND (?::text IS NULL OR tenant = ?::text)";

  private static final String BY_KEY =
      "SELECT " + COLUMNS + " FROM jobs WHERE tenant = ? AND idempotency_key = ?";

  private static final String PAGE =
      "SELECT "
          + COLUMNS
          + """
           FROM jobs
          WHERE parent_id IS NULL AND (?::text IS NULL OR tenant = ?::text)
            AND (?::text IS NULL OR status = ?::text)
            AND (?::timestamptz IS NULL OR (created_at, id) < (?::timestamptz, ?::uuid))
          ORDER BY created_at DESC, id DESC LIMIT ?
          """;

  // A stage's finished tasks count in its pipeline's sums too, in the same statement; the stages'
  // rows are locked first, then their pipelines', the order every writer of both keeps.
  // The CTEs `counted` (each job of a CTE `delta(id, s, f)` counts s more succeeded and f more
  // failed tasks) and `summed` (their pipelines' sums), to follow `delta` in a WITH: the statement
  // below and the completion statement of PostgresTaskStore both end so.
  static final String COUNT_DELTAS =
      """
      , counted AS (
        UPDATE jobs j SET tasks_succeeded = j.tasks_succeeded + d.s, tasks_failed = j.tasks_failed + d.f,
                          version = j.version + 1, updated_at = now()
          FROM delta d
         WHERE j.id = d.id
        RETURNING j.id, j.status, j.task_count, j.tasks_succeeded, j.tasks_failed, j.on_task_failure,
                  j.parent_id, d.s, d.f
      ), summed AS (
        UPDATE jobs p SET tasks_succeeded = p.tasks_succeeded + d.s, tasks_failed = p.tasks_failed + d.f,
                          updated_at = now()
          FROM (SELECT parent_id, sum(s)::int AS s, sum(f)::int AS f FROM counted
                 WHERE parent_id IS NOT NULL GROUP BY parent_id) d
         WHERE p.id = d.parent_id
      )
      """;

  private static final String ADD_COUNTS =
      """
      WITH delta AS (
        SELECT * FROM unnest(?::uuid[], ?::int[], ?::int[]) AS c(id, s, f) ORDER BY id
      )"""
          + COUNT_DELTAS
          + """
      SELECT id, status, task_count, tasks_succeeded, tasks_failed, on_task_failure, parent_id
        FROM counted
      """;

  private static final String DISPATCH_LAG =
      """
      SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM jobs
       WHERE status = 'QUEUED' AND (run_at IS NULL OR run_at <= now())
      """;

  private static final String TOUCH = "UPDATE jobs SET updated_at = now() WHERE id = ?";

  /** Inserts a job with no tasks yet; false when its idempotency key is taken. */
  public boolean insert(Connection c, NewJob job) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      ps.setObject(1, job.id());
      ps.setString(2, job.tenant());
      ps.setString(3, job.type());
      ps.setString(4, job.queue());
      ps.setString(5, Json.write(job.payload()));
      ps.setString(6, job.idempotencyKey());
      ps.setString(7, job.requestHash());
      ps.setInt(8, job.priority());
      ps.setInt(9, job.maxAttempts());
      ps.setString(10, job.onTaskFailure());
      ps.setString(11, job.labels() == null ? null : Json.write(job.labels()));
      ps.setTimestamp(12, job.runAt() == null ? null : Timestamp.from(job.runAt()));
      ps.setInt(13, job.stages().size());
      TimeLimits limits = job.limits();
      ps.setObject(14, TimeLimits.millis(limits.taskTimeout()));
      ps.setObject(15, TimeLimits.millis(limits.deadline()));
      ps.setObject(16, TimeLimits.millis(limits.deadline()));
      ps.setObject(17, TimeLimits.millis(limits.retryBase()));
      ps.setObject(18, TimeLimits.millis(limits.retryMax()));
      ps.setString(19, ConcurrencyKey.keyOf(job.concurrency()));
      ps.setObject(20, job.concurrency() == null ? null : job.concurrency().limit());
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Inserts one-stage jobs QUEUED, in the order given, each with its task count; returns the ids of
   * those inserted (the others' idempotency keys were taken).
   */
  public Set<UUID> insertMany(Connection c, List<PreparedJob> prepared) throws SQLException {
    List<NewJob> list = prepared.stream().map(PreparedJob::job).toList();
    Set<UUID> inserted = new HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(INSERT_MANY)) {
      ps.setArray(1, uuids(c, list, NewJob::id));
      ps.setArray(2, texts(c, list, NewJob::tenant));
      ps.setArray(3, texts(c, list, NewJob::type));
      ps.setArray(4, texts(c, list, NewJob::queue));
      ps.setArray(5, texts(c, list, j -> Json.write(j.payload())));
      ps.setArray(6, texts(c, list, NewJob::idempotencyKey));
      ps.setArray(7, texts(c, list, NewJob::requestHash));
      ps.setArray(8, ints(c, list, NewJob::priority));
      ps.setArray(9, ints(c, list, NewJob::maxAttempts));
      ps.setArray(10, texts(c, list, NewJob::onTaskFailure));
      ps.setArray(11, texts(c, list, j -> j.labels() == null ? null : Json.write(j.labels())));
      ps.setArray(
          12,
          c.createArrayOf(
              "timestamptz",
              list.stream()
                  .map(j -> j.runAt() == null ? null : Timestamp.from(j.runAt()))
                  .toArray()));
      ps.setArray(13, ints(c, prepared, p -> p.inputs().size()));
      ps.setArray(14, millis(c, list, TimeLimits::taskTimeout));
      ps.setArray(15, millis(c, list, TimeLimits::deadline));
      ps.setArray(16, millis(c, list, TimeLimits::retryBase));
      ps.setArray(17, millis(c, list, TimeLimits::retryMax));
      ps.setArray(18, texts(c, list, j -> ConcurrencyKey.keyOf(j.concurrency())));
      ps.setArray(
          19,
          c.createArrayOf(
              "int4",
              list.stream()
                  .map(j -> j.concurrency() == null ? null : j.concurrency().limit())
                  .toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(rs.getObject(1, UUID.class));
        }
      }
    }
    return inserted;
  }

  private static Array millis(Connection c, List<NewJob> jobs, Function<TimeLimits, Duration> field)
      throws SQLException {
    return c.createArrayOf(
        "int8", jobs.stream().map(j -> TimeLimits.millis(field.apply(j.limits()))).toArray());
  }

  /**
   * Deletes jobs with their tasks and events (a group's jobs its tenant's quota had no room for).
   */
  public void delete(Connection c, Collection<UUID> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DELETE)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      ps.executeUpdate();
    }
  }

  /** The jobs of {@code ids} that exist, in no particular order. */
  public List<Job> findAll(Connection c, Collection<UUID> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(BY_IDS)) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      return all(ps);
    }
  }

  /** Inserts stage {@code idx} of the pipeline {@code parentId}, WAITING, as row {@code id}. */
  public void insertStage(Connection c, UUID parentId, int idx, UUID id, NewStage stage)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT_STAGE)) {
      ps.setObject(1, id);
      ps.setString(2, stage.type());
      ps.setString(3, stage.queue());
      ps.setString(4, Json.write(stage.payload()));
      ps.setString(5, stage.onTaskFailure());
      ps.setString(6, stage.name());
      ps.setInt(7, idx);
      ps.setArray(8, c.createArrayOf("text", stage.dependsOn().toArray()));
      ps.setObject(9, TimeLimits.millis(stage.taskTimeout()));
      ps.setObject(10, parentId);
      ps.executeUpdate();
    }
  }

  /** The pipeline a stage row belongs to; null for a one-stage job (or a pipeline). */
  public UUID parentOf(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT parent_id FROM jobs WHERE id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getObject(1, UUID.class) : null;
      }
    }
  }

  /** The stages of a pipeline in topological order; empty for a one-stage job. */
  public List<Job> stagesOf(Connection c, UUID pipelineId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(STAGES_OF)) {
      ps.setObject(1, pipelineId);
      return all(ps);
    }
  }

  public void setTaskCount(Connection c, UUID id, int taskCount) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(SET_TASK_COUNT)) {
      ps.setInt(1, taskCount);
      ps.setObject(2, id);
      ps.executeUpdate();
    }
  }

  public Optional<Job> find(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(BY_ID)) {
      ps.setObject(1, id);
      return one(ps);
    }
  }

  /** The job if it is in {@code scope}: another tenant's job reads as no job at all. */
  public Optional<Job> find(Connection c, TenantScope scope, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(BY_ID_IN_SCOPE)) {
      ps.setObject(1, id);
      scope.bind(ps, 2);
      return one(ps);
    }
  }

  /** A job's payload; kept out of {@link Job} because it may be megabytes. */
  public JsonNode payload(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PAYLOAD)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Json.read(rs.getString(1)) : null;
      }
    }
  }

  public Optional<Job> findByIdempotencyKey(Connection c, String tenant, String key)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(BY_KEY)) {
      ps.setString(1, tenant);
      ps.setString(2, key);
      return one(ps);
    }
  }

  /**
   * The jobs in {@code scope}, newest first, after the cursor position {@code (createdAt, id)} when
   * given.
   */
  public List<Job> page(
      Connection c,
      TenantScope scope,
      JobStatus status,
      Instant afterCreated,
      UUID afterId,
      int limit)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PAGE)) {
      String s = status == null ? null : status.name();
      Timestamp t = afterCreated == null ? null : Timestamp.from(afterCreated);
      scope.bind(ps, 1);
      ps.setString(3, s);
      ps.setString(4, s);
      ps.setTimestamp(5, t);
      ps.setTimestamp(6, t);
      ps.setObject(7, afterId);
      ps.setInt(8, limit);
      return all(ps);
    }
  }

  /** The counters of one job after a batch of completions. */
  public record Counts(
      UUID id,
      JobStatus status,
      int taskCount,
      int succeeded,
      int failed,
      String onTaskFailure,
      UUID parentId) {
    public boolean allFinished() {
      return succeeded + failed == taskCount;
    }
  }

  /**
   * Adds finished tasks to their jobs' counters; the table's check keeps them within task_count.
   */
  public List<Counts> addCounts(Connection c, Collection<CountDelta> deltas) throws SQLException {
    List<Counts> counts = new ArrayList<>(deltas.size());
    try (PreparedStatement ps = c.prepareStatement(ADD_COUNTS)) {
      ps.setArray(1, uuids(c, deltas, CountDelta::jobId));
      ps.setArray(2, ints(c, deltas, CountDelta::succeeded));
      ps.setArray(3, ints(c, deltas, CountDelta::failed));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.add(
              new Counts(
                  rs.getObject("id", UUID.class),
                  JobStatus.valueOf(rs.getString("status")),
                  rs.getInt("task_count"),
                  rs.getInt("tasks_succeeded"),
                  rs.getInt("tasks_failed"),
                  rs.getString("on_task_failure"),
                  rs.getObject("parent_id", UUID.class)));
        }
      }
    }
    return counts;
  }

  /** Finished-task counts to add to one job. */
  public record CountDelta(UUID jobId, int succeeded, int failed) {}

  /** How long, in seconds, the oldest due QUEUED job has waited for dispatch; 0 when none. */
  public double dispatchLagSeconds(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DISPATCH_LAG);
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getDouble(1) : 0.0;
    }
  }

  /** Marks a job as looked at, so the sweeper does not repeat a repair before the grace passes. */
  public void touch(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TOUCH)) {
      ps.setObject(1, id);
      ps.executeUpdate();
    }
  }

  private static TimeLimits limits(ResultSet rs) throws SQLException {
    return new TimeLimits(
        TimeLimits.duration(rs.getLong("task_timeout_ms"), rs.wasNull()),
        TimeLimits.duration(rs.getLong("deadline_ms"), rs.wasNull()),
        TimeLimits.duration(rs.getLong("retry_base_ms"), rs.wasNull()),
        TimeLimits.duration(rs.getLong("retry_max_ms"), rs.wasNull()));
  }

  private static Optional<Job> one(PreparedStatement ps) throws SQLException {
    List<Job> jobs = all(ps);
    return jobs.isEmpty() ? Optional.empty() : Optional.of(jobs.get(0));
  }

  private static List<Job> all(PreparedStatement ps) throws SQLException {
    List<Job> jobs = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        jobs.add(
            new Job(
                rs.getObject("id", UUID.class),
                rs.getString("tenant"),
                rs.getString("type"),
                rs.getString("queue"),
                JobStatus.valueOf(rs.getString("status")),
                rs.getLong("version"),
                rs.getString("idempotency_key"),
                rs.getString("request_hash"),
                rs.getInt("priority"),
                rs.getInt("max_attempts"),
                rs.getString("on_task_failure"),
                rs.getInt("task_count"),
                rs.getInt("tasks_succeeded"),
                rs.getInt("tasks_failed"),
                Json.read(rs.getString("result")),
                rs.getString("error"),
                instant(rs, "created_at"),
                instant(rs, "updated_at"),
                instant(rs, "finished_at"),
                Json.read(rs.getString("labels")),
                instant(rs, "run_at"),
                rs.getObject("parent_id", UUID.class),
                rs.getString("stage_name"),
                rs.getInt("stage_idx"),
                List.of((String[]) rs.getArray("depends_on").getArray()),
                rs.getInt("stage_count"),
                instant(rs, "started_at"),
                limits(rs),
                instant(rs, "deadline_at"),
                ConcurrencyKey.of(
                    rs.getString("concurrency_key"), rs.getInt("concurrency_limit"))));
      }
    }
    return jobs;
  }
}
