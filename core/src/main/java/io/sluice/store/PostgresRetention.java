package io.sluice.store;

import static io.sluice.store.Sql.uuids;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Deletes finished jobs older than the retention, by bounded batches: {@link #markExpired} picks
 * and marks a batch of jobs, {@link #deleteTasks} and {@link #deleteEvents} delete their rows a
 * bounded chunk per call, {@link #deleteJobs} deletes the job rows last. Each call is meant to be
 * one short transaction of its own, so a million-task job is deleted in many of them and no lock is
 * held for long. A job's tenant quota is untouched: only finished jobs are deleted, and they no
 * longer count in {@code tenant_usage} (whose trigger fires on status updates, never on deletes).
 */
public final class PostgresRetention {
  // Oldest first through jobs_expiry; SKIP LOCKED passes over a job a requeue is reopening now.
  private static final String EXPIRED =
      """
      SELECT id FROM jobs
       WHERE parent_id IS NULL AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
         AND finished_at < now() - ? * interval '1 millisecond'
       ORDER BY finished_at
       LIMIT ?
         FOR UPDATE SKIP LOCKED
      """;

  // Locked too: a stage's requeue cannot slip in between this check and the mark.
  private static final String STAGES =
      "SELECT id, parent_id, status FROM jobs WHERE parent_id = ANY(?) FOR UPDATE";

  // From here on PostgresTaskRequeue finds no job: a half-deleted job can never be reopened.
  private static final String MARK = "UPDATE jobs SET deleting = true WHERE id = ANY(?)";

  // By ctid: a TID scan deletes exactly the rows the bounded subquery found through the index.
  private static final String DELETE_TASKS =
      """
      DELETE FROM tasks WHERE ctid = ANY(ARRAY(
        SELECT t.ctid FROM tasks t JOIN jobs j ON j.id = t.job_id
         WHERE t.job_id = ANY(?) AND j.deleting LIMIT ?))
      """;

  private static final String DELETE_EVENTS =
      """
      DELETE FROM job_events WHERE id = ANY(ARRAY(
        SELECT e.id FROM job_events e JOIN jobs j ON j.id = e.job_id
         WHERE e.job_id = ANY(?) AND j.deleting LIMIT ?))
      """;

  // Stages first, then their pipelines: the cascades then find nothing left to delete.
  private static final String DELETE_JOBS =
      "DELETE FROM jobs WHERE id = ANY(?) AND deleting AND parent_id IS NOT NULL";

  private static final String DELETE_TOP_JOBS =
      "DELETE FROM jobs WHERE id = ANY(?) AND deleting AND parent_id IS NULL";

  private static final String AUTOVACUUM_ON = "SELECT current_setting('autovacuum') = 'on'";

  // Outside any transaction (auto-commit). A plain VACUUM takes SHARE UPDATE EXCLUSIVE, which no
  // read or write conflicts with; SKIP_LOCKED passes over a table another vacuum is busy with.
  private static final String VACUUM = "VACUUM (SKIP_LOCKED) jobs, tasks, job_events";

  private static final Set<String> FINISHED = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  /**
   * A batch of expired jobs, marked for deletion.
   *
   * @param jobs the pipelines and one-stage jobs
   * @param stages the stages of those pipelines
   */
  public record Marked(List<UUID> jobs, List<UUID> stages) {
    /** Every job row of the batch: the jobs, then their stages. */
    public List<UUID> all() {
      List<UUID> all = new ArrayList<>(jobs);
      all.addAll(stages);
      return all;
    }
  }

  /**
   * Marks up to {@code limit} finished jobs whose finish is older than {@code retention}, oldest
   * first, with their stages; a pipeline with a stage that is not finished (one being requeued) is
   * left for a later run. Finds the batch an interrupted run marked again, as it is older.
   */
  public Marked markExpired(Connection c, Duration retention, int limit) throws SQLException {
    List<UUID> jobs = expired(c, retention, limit);
    if (jobs.isEmpty()) {
      return new Marked(List.of(), List.of());
    }
    Set<UUID> keep = new LinkedHashSet<>(jobs);
    List<UUID[]> stages = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(STAGES)) {
      ps.setArray(1, uuids(c, jobs, Function.identity()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID stage = rs.getObject("id", UUID.class);
          UUID parent = rs.getObject("parent_id", UUID.class);
          stages.add(new UUID[] {stage, parent});
          if (!FINISHED.contains(rs.getString("status"))) {
            keep.remove(parent);
          }
        }
      }
    }
    List<UUID> stageIds = stages.stream().filter(s -> keep.contains(s[1])).map(s -> s[0]).toList();
    Marked marked = new Marked(List.copyOf(keep), stageIds);
    try (PreparedStatement ps = c.prepareStatement(MARK)) {
      ps.setArray(1, uuids(c, marked.all(), Function.identity()));
      ps.executeUpdate();
    }
    return marked;
  }

  private static List<UUID> expired(Connection c, Duration retention, int limit)
      throws SQLException {
    List<UUID> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(EXPIRED)) {
      ps.setLong(1, retention.toMillis());
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
        }
      }
    }
    return ids;
  }

  /** Deletes up to {@code limit} tasks of the marked jobs {@code jobIds}; returns how many. */
  public int deleteTasks(Connection c, List<UUID> jobIds, int limit) throws SQLException {
    return deleteChunk(c, DELETE_TASKS, jobIds, limit);
  }

  /** Deletes up to {@code limit} events of the marked jobs {@code jobIds}; returns how many. */
  public int deleteEvents(Connection c, List<UUID> jobIds, int limit) throws SQLException {
    return deleteChunk(c, DELETE_EVENTS, jobIds, limit);
  }

  /** Deletes the marked job rows of {@code batch}, stages first; returns how many. */
  public int deleteJobs(Connection c, Marked batch) throws SQLException {
    return deleteRows(c, DELETE_JOBS, batch.stages())
        + deleteRows(c, DELETE_TOP_JOBS, batch.jobs());
  }

  private static int deleteChunk(Connection c, String sql, List<UUID> jobIds, int limit)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, uuids(c, jobIds, Function.identity()));
      ps.setInt(2, limit);
      return ps.executeUpdate();
    }
  }

  private static int deleteRows(Connection c, String sql, List<UUID> ids) throws SQLException {
    if (ids.isEmpty()) {
      return 0;
    }
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, uuids(c, ids, Function.identity()));
      return ps.executeUpdate();
    }
  }

  // The per-job tables whose rows changed by more than a tenth (and a thousand rows) since they
  // were last analyzed: autovacuum's own analyze threshold, at its defaults.
  private static final String STALE_STATISTICS =
      """
      SELECT relname FROM pg_stat_user_tables
       WHERE schemaname = current_schema() AND relname IN ('jobs', 'tasks', 'job_events')
         AND n_mod_since_analyze > 1000 + 0.1 * GREATEST(n_live_tup, 0)
       ORDER BY relname
      """;

  /**
   * Analyzes those of {@code jobs}, {@code tasks} and {@code job_events} whose rows changed by more
   * than autovacuum's threshold since their last analysis, on {@code c}, an auto-commit connection;
   * returns their names. ANALYZE takes SHARE UPDATE EXCLUSIVE, which no read or write conflicts
   * with, and reads a sample of 30,000 rows whatever the table's size.
   */
  public List<String> analyzeStale(Connection c) throws SQLException {
    List<String> stale = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(STALE_STATISTICS);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        stale.add(rs.getString(1));
      }
    }
    if (!stale.isEmpty()) {
      try (Statement s = c.createStatement()) {
        s.execute("ANALYZE (SKIP_LOCKED) " + String.join(", ", stale));
      }
    }
    return stale;
  }

  /** True when the server's autovacuum runs, so deleted rows are made reusable without us. */
  public boolean autovacuumOn(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(AUTOVACUUM_ON);
        ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * Vacuums the per-job tables on {@code c}, an auto-commit connection, with the statement timeout
   * lifted for it and restored after. A role that does not own the tables gets a warning from
   * PostgreSQL and vacuums nothing.
   */
  public void vacuum(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      String timeout;
      try (ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
        rs.next();
        timeout = rs.getString(1);
      }
      s.execute("SET statement_timeout = 0");
      try {
        s.execute(VACUUM);
      } finally {
        try (PreparedStatement restore =
            c.prepareStatement("SELECT set_config('statement_timeout', ?, false)")) {
          restore.setString(1, timeout);
          restore.execute();
        }
      }
    }
  }
}
