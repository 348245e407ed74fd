package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The sweeper's {@code jobs} queries, one per kind of repair. Each is a keyset page, oldest first,
 * after a cursor {@code (at, id)} that the sweeper carries from sweep to sweep: rows the sweeper
 * cannot act on (jobs on a queue no worker reads) are passed over on the next sweep instead of
 * filling every page, so they never keep another job from its repair. A short page means the end
 * was reached; the sweeper then starts again from the oldest.
 */
public final class PostgresJobRepair {
  /** What a sweep repairs; each has its own query, grace and cursor. */
  public enum Kind {
    /** Every task finished, but no collect signal came within the collect grace. */
    UNCOLLECTED(
        """
        SELECT id, updated_at AS at FROM jobs
         WHERE status IN ('QUEUED', 'RUNNING') AND tasks_succeeded + tasks_failed = task_count
           AND stage_count = 0 AND updated_at < now() - ? * interval '1 millisecond'
           AND (updated_at, id) > (?, ?)
         ORDER BY updated_at, id LIMIT ?
        """),
    /** A collection that stopped heartbeating for the collecting grace. */
    STALE_COLLECTING(
        """
        SELECT id, updated_at AS at FROM jobs
         WHERE status = 'COLLECTING' AND updated_at < now() - ? * interval '1 millisecond'
           AND (updated_at, id) > (?, ?)
         ORDER BY updated_at, id LIMIT ?
        """),
    /**
     * A delayed job whose {@code runAt} has come: by due time, through the {@code jobs_due} index,
     * so it starts within one sweep interval (the grace is 0).
     */
    DUE(
        """
        SELECT id, run_at AS at FROM jobs
         WHERE status = 'QUEUED' AND run_at IS NOT NULL AND stage_count = 0
           AND run_at <= now() - ? * interval '1 millisecond'
           AND (run_at, id) > (?, ?)
         ORDER BY run_at, id LIMIT ?
        """),
    /**
     * A dispatch that did not finish within the dispatch grace; delayed jobs not yet due skipped.
     */
    UNDISPATCHED(
        """
        SELECT id, updated_at AS at FROM jobs
         WHERE status = 'QUEUED' AND stage_count = 0
           AND updated_at < now() - ? * interval '1 millisecond'
           AND (run_at IS NULL OR run_at <= now())
           AND (updated_at, id) > (?, ?)
         ORDER BY updated_at, id LIMIT ?
        """),
    /**
     * The safety net: a RUNNING job that made no progress for the dispatch grace while tasks of it
     * wait QUEUED; the sweeper appends them again if its queue has nothing left to hand out.
     */
    NOT_PROGRESSING(
        """
        SELECT id, updated_at AS at FROM jobs
         WHERE status = 'RUNNING' AND updated_at < now() - ? * interval '1 millisecond'
           AND EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = jobs.id AND t.status = 'QUEUED')
           AND (updated_at, id) > (?, ?)
         ORDER BY updated_at, id LIMIT ?
        """),
    /**
     * A pipeline that its stages should have moved on and did not: a stage ready but not split, a
     * FAILED stage whose pipeline still runs, or every stage finished while the pipeline has not.
     * Each is done in the transaction of the stage's move, so this only repairs what a crash or an
     * outage between the two left behind.
     */
    UNADVANCED(
        """
        SELECT id, updated_at AS at FROM jobs p
         WHERE status IN ('QUEUED', 'RUNNING') AND stage_count > 0
           AND updated_at < now() - ? * interval '1 millisecond'
           AND (EXISTS (SELECT 1 FROM jobs s WHERE s.parent_id = p.id AND s.status = 'FAILED')
                OR NOT EXISTS (SELECT 1 FROM jobs s WHERE s.parent_id = p.id
                                  AND s.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
                OR EXISTS (SELECT 1 FROM jobs s WHERE s.parent_id = p.id AND s.status = 'WAITING'
                              AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.parent_id = p.id
                                                 AND d.stage_name = ANY (s.depends_on)
                                                 AND d.status <> 'SUCCEEDED')))
           AND (updated_at, id) > (?, ?)
         ORDER BY updated_at, id LIMIT ?
        """);

    private final String sql;

    Kind(String sql) {
      this.sql = sql;
    }
  }

  /** A position in a repair query's order; {@link #START} is before every row. */
  public record Cursor(Instant at, UUID id) {
    public static final Cursor START =
        new Cursor(Instant.parse("1970-01-01T00:00:00Z"), new UUID(0, 0));
  }

  /** A job found by a repair query, and its position in that query's order. */
  public record Found(UUID id, Cursor position) {}

  /** Up to {@code limit} jobs of {@code kind} older than {@code grace}, after {@code after}. */
  public List<Found> page(Connection c, Kind kind, Duration grace, Cursor after, int limit)
      throws SQLException {
    List<Found> found = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(kind.sql)) {
      ps.setLong(1, grace.toMillis());
      ps.setObject(2, OffsetDateTime.ofInstant(after.at(), ZoneOffset.UTC));
      ps.setObject(3, after.id());
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject("id", UUID.class);
          found.add(new Found(id, new Cursor(Sql.instant(rs, "at"), id)));
        }
      }
    }
    return found;
  }
}
