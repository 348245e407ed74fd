package io.sluice.testing;

import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;

/** Reads a job's row and event log as assertions compare them. */
public final class JobRows {
  private static final String SNAPSHOT =
      """
      SELECT j.status, j.version, j.finished_at IS NOT NULL AS finished,
             (SELECT count(*) FROM job_events e WHERE e.job_id = j.id) AS events
        FROM jobs j WHERE j.id = ?
      """;

  private static final String LAST_EVENT =
      """
      SELECT kind, job_version, from_status, to_status FROM job_events
       WHERE job_id = ? ORDER BY id DESC LIMIT 1
      """;

  /** What a transition may change: status, version, how many events, whether finished. */
  public record Snapshot(JobStatus status, long version, long events, boolean finished) {}

  /** One event row, without its detail and time. */
  public record Event(String kind, long jobVersion, String fromStatus, String toStatus) {}

  public Snapshot snapshot(Database db, UUID jobId) {
    return db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(SNAPSHOT)) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw new IllegalStateException("no job " + jobId);
              }
              return new Snapshot(
                  JobStatus.valueOf(rs.getString("status")),
                  rs.getLong("version"),
                  rs.getLong("events"),
                  rs.getBoolean("finished"));
            }
          }
        });
  }

  /** The job's newest event, or null when it has none. */
  public Event lastEvent(Database db, UUID jobId) {
    return db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(LAST_EVENT)) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? new Event(
                      rs.getString("kind"),
                      rs.getLong("job_version"),
                      rs.getString("from_status"),
                      rs.getString("to_status"))
                  : null;
            }
          }
        });
  }
}
