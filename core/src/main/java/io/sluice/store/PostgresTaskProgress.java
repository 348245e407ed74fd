package io.sluice.store;

import static io.sluice.store.Sql.ints;
import static io.sluice.store.Sql.longs;
import static io.sluice.store.Sql.texts;
import static io.sluice.store.Sql.uuids;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The progress columns of {@code tasks}: handlers' reports, written in batches, and the live
 * aggregate of a job's running tasks. A report is written only to its own task's row and only while
 * the claim that made it still holds (same {@code lease_epoch}, still RUNNING), so it can neither
 * overwrite another task's progress nor a finished task's.
 *
 * <p>The column {@code progress_stage} holds a report's <em>phase</em> (such as {@code download});
 * it keeps the name it had before pipeline stages existed, since a rename migration buys nothing.
 */
public final class PostgresTaskProgress {
  static final String WRITE =
      """
      WITH c AS (
        SELECT * FROM unnest(?::uuid[], ?::int[], ?::int8[], ?::real[], ?::text[], ?::text[])
                 AS c(job_id, seq, epoch, fraction, phase, message)
      ), locked AS (
        -- The fence judged on the locked row; the update reaches the rows by key alone
        -- (PostgresTaskStore.COMPLETE_CTES).
        SELECT t.job_id, t.seq, t.status = 'RUNNING' AND t.lease_epoch = c.epoch AS go, c.fraction,
               c.phase, c.message
          FROM tasks t JOIN c ON t.job_id = c.job_id AND t.seq = c.seq
         ORDER BY t.job_id, t.seq FOR UPDATE OF t
      )
      UPDATE tasks t
         SET progress = l.fraction, progress_stage = l.phase, progress_message = l.message,
             progress_at = now(), version = t.version + 1
        FROM locked l
       WHERE t.job_id = l.job_id AND t.seq = l.seq AND l.go
      """;

  private static final String LIVE =
      """
      SELECT progress_stage, count(*) AS tasks, sum(progress) AS progress
        FROM tasks
       WHERE job_id IN (SELECT ?::uuid UNION ALL SELECT id FROM jobs WHERE parent_id = ?)
         AND status = 'RUNNING'
       GROUP BY progress_stage ORDER BY progress_stage NULLS FIRST
      """;

  /** The latest progress report of one claim. */
  public record Report(
      UUID jobId, int seq, long leaseEpoch, double fraction, String phase, String message) {}

  /** Running tasks in one phase: how many, and the sum of their progress. */
  public record Phase(int tasks, double progressSum) {
    public double mean() {
      return tasks == 0 ? 0 : progressSum / tasks;
    }
  }

  /** A job's running tasks: their summed progress, and per named phase. */
  public record Live(int running, double progressSum, Map<String, Phase> phases) {}

  /**
   * Writes a batch of reports, at most one per task, in one statement; returns how many were
   * applied (the rest came from claims that ended).
   */
  public int write(Connection c, Collection<Report> reports) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(WRITE)) {
      ps.setArray(1, uuids(c, reports, Report::jobId));
      ps.setArray(2, ints(c, reports, Report::seq));
      ps.setArray(3, longs(c, reports, Report::leaseEpoch));
      ps.setArray(
          4, c.createArrayOf("float4", reports.stream().map(r -> (float) r.fraction()).toArray()));
      ps.setArray(5, texts(c, reports, Report::phase));
      ps.setArray(6, texts(c, reports, Report::message));
      return ps.executeUpdate();
    }
  }

  /** The live progress of a job's running tasks. */
  public Live live(Connection c, UUID jobId) throws SQLException {
    int running = 0;
    double sum = 0;
    Map<String, Phase> phases = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(LIVE)) {
      ps.setObject(1, jobId); // a one-stage job's tasks, or a pipeline's stages' (its own has none)
      ps.setObject(2, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int tasks = rs.getInt("tasks");
          double progress = rs.getDouble("progress");
          running += tasks;
          sum += progress;
          String phase = rs.getString("progress_stage");
          if (phase != null) {
            phases.put(phase, new Phase(tasks, progress));
          }
        }
      }
    }
    return new Live(running, sum, phases);
  }
}
