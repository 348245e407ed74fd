package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The {@code schedule_fires} table. A fire row is unique per (schedule, fire time) and is written
 * in the transaction that stores its job, so a fire time has one job at most even if two leaders
 * were to fire it.
 */
public final class PostgresScheduleFires {
  // A second row for the same (schedule, fire time) fails the unique constraint: the transaction,
  // and the job it stored, roll back.
  private static final String INSERT_FIRES =
      """
      INSERT INTO schedule_fires (schedule_id, fire_time, outcome, job_id, epoch)
      SELECT * FROM unnest(?::uuid[], ?::timestamptz[], ?::text[], ?::uuid[], ?::bigint[])
      """;

  private static final String PRUNE_FIRES =
      """
      DELETE FROM schedule_fires
       WHERE ctid IN (SELECT ctid FROM schedule_fires
                       WHERE fired_at < now() - ? * interval '1 millisecond'
                       ORDER BY fired_at LIMIT ?)
      """;

  /** A fire to record: {@code jobId} null for one skipped because the last job was unfinished. */
  public record Fire(UUID scheduleId, Instant fireTime, UUID jobId, long epoch) {}

  /** Records the fires in one statement; a fire time recorded before fails it (23505). */
  public void recordFires(Connection c, List<Fire> fires) throws SQLException {
    if (fires.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_FIRES)) {
      ps.setArray(1, c.createArrayOf("uuid", fires.stream().map(Fire::scheduleId).toArray()));
      ps.setArray(2, PostgresScheduleStore.times(c, fires.stream().map(Fire::fireTime).toList()));
      ps.setArray(
          3,
          c.createArrayOf(
              "text",
              fires.stream().map(f -> f.jobId() == null ? "skipped" : "submitted").toArray()));
      ps.setArray(4, c.createArrayOf("uuid", fires.stream().map(Fire::jobId).toArray()));
      ps.setArray(5, c.createArrayOf("bigint", fires.stream().map(Fire::epoch).toArray()));
      ps.executeUpdate();
    }
  }

  /** Deletes up to {@code limit} fire rows older than {@code age}; returns how many. */
  public int pruneFires(Connection c, Duration age, int limit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PRUNE_FIRES)) {
      ps.setLong(1, age.toMillis());
      ps.setInt(2, limit);
      return ps.executeUpdate();
    }
  }
}
