package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;

/**
 * The {@code tenant_usage} table: each tenant's count of active (QUEUED, RUNNING, COLLECTING) jobs.
 * A submission takes a place with {@link #tryTake}, one statement whose {@code WHERE} is the quota
 * check, so concurrent submissions serialise on the tenant's row and never exceed the quota; a
 * trigger on {@code jobs} gives the place back when a job finishes, into one of the tenant's
 * release counters rather than this row (migration V18), so a finishing transaction never waits on
 * a submission's lock or the other way round. Each take folds the releases it sees into the row.
 */
public final class PostgresTenantQuota {
  // The tenant's release counters (migration V18), read once per statement.
  private static final String RELEASED =
      """
      WITH r AS (SELECT coalesce(sum(released), 0) AS total FROM tenant_usage_released
                  WHERE tenant = ?)
      """;

  // The row's count with the releases not yet folded in taken off (never below 0).
  private static final String COUNTED =
      "GREATEST(u.active_jobs - GREATEST((SELECT total FROM r) - u.released_folded, 0), 0)";

  // n places at once: all of them or none. A tenant's first row is inserted only if n fit. Folds
  // the
  // releases it read into the row, under the row's lock.
  private static final String TAKE =
      RELEASED
          + """
          INSERT INTO tenant_usage AS u (tenant, active_jobs, released_folded)
          SELECT ?, ?::int, (SELECT total FROM r) WHERE ?::int IS NULL OR ?::int <= ?::int
          ON CONFLICT (tenant) DO UPDATE
             SET active_jobs = %1$s + EXCLUDED.active_jobs,
                 released_folded = GREATEST(u.released_folded, (SELECT total FROM r)),
                 version = u.version + 1
           WHERE ?::int IS NULL OR %1$s + EXCLUDED.active_jobs <= ?::int
          RETURNING active_jobs
          """
              .formatted(COUNTED);

  // Takes the tenant's row lock (creating the row at 0 if need be) only while a place is free; the
  // caller's status change then counts the job through the trigger, under the same lock.
  private static final String HOLD =
      RELEASED
          + """
          INSERT INTO tenant_usage AS u (tenant, active_jobs, released_folded)
          VALUES (?, 0, (SELECT total FROM r))
          ON CONFLICT (tenant) DO UPDATE
             SET active_jobs = %1$s,
                 released_folded = GREATEST(u.released_folded, (SELECT total FROM r)),
                 version = u.version + 1
           WHERE %1$s < ?::int
          RETURNING active_jobs
          """
              .formatted(COUNTED);

  private static final String ACTIVE =
      "SELECT active_jobs FROM tenant_active_jobs WHERE tenant = ?";

  /**
   * Counts one more active job for the tenant unless it has {@code quota} already (null: no quota,
   * but the job is still counted). Run it last in the submission's transaction: it holds the
   * tenant's row until the commit.
   */
  public boolean tryTake(Connection c, String tenant, Integer quota) throws SQLException {
    return tryTake(c, tenant, 1, quota);
  }

  /**
   * Counts {@code n} more active jobs for the tenant if all of them fit in its quota, else none.
   */
  public boolean tryTake(Connection c, String tenant, int n, Integer quota) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TAKE)) {
      ps.setString(1, tenant);
      ps.setString(2, tenant);
      ps.setInt(3, n);
      ps.setObject(4, quota, Types.INTEGER);
      ps.setInt(5, n);
      ps.setObject(6, quota, Types.INTEGER);
      ps.setObject(7, quota, Types.INTEGER);
      ps.setObject(8, quota, Types.INTEGER);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Locks the tenant's usage row until the commit if it has fewer than {@code quota} active jobs;
   * false when it has its quota already. For a job that becomes active again by a status change
   * (which migration V11's trigger counts), not for a new job ({@link #tryTake}).
   */
  public boolean tryHold(Connection c, String tenant, int quota) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HOLD)) {
      ps.setString(1, tenant);
      ps.setString(2, tenant);
      ps.setInt(3, quota);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** The tenant's active jobs as counted. */
  public int active(Connection c, String tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ACTIVE)) {
      ps.setString(1, tenant);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }
}
