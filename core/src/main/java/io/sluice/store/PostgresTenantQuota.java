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
 * trigger on {@code jobs} (migration V11) gives the place back when a job finishes.
 */
public final class PostgresTenantQuota {
  // n places at once: all of them or none. A tenant's first row is inserted only if n fit.
  private static final String TAKE =
      """
      INSERT INTO tenant_usage AS u (tenant, active_jobs)
      SELECT ?, ?::int WHERE ?::int IS NULL OR ?::int <= ?::int
      ON CONFLICT (tenant) DO UPDATE SET active_jobs = u.active_jobs + EXCLUDED.active_jobs,
                                         version = u.version + 1
       WHERE ?::int IS NULL OR u.active_jobs + EXCLUDED.active_jobs <= ?::int
      RETURNING active_jobs
      """;

  // Takes the tenant's row lock (creating the row at 0 if need be) only while a place is free; the
  // caller's status change then counts the job through the trigger, under the same lock.
  private static final String HOLD =
      """
      INSERT INTO tenant_usage AS u (tenant, active_jobs) VALUES (?, 0)
      ON CONFLICT (tenant) DO UPDATE SET version = u.version + 1
       WHERE u.active_jobs < ?::int
      RETURNING active_jobs
      """;

  private static final String ACTIVE = "SELECT active_jobs FROM tenant_usage WHERE tenant = ?";

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
      ps.setInt(2, n);
      ps.setObject(3, quota, Types.INTEGER);
      ps.setInt(4, n);
      ps.setObject(5, quota, Types.INTEGER);
      ps.setObject(6, quota, Types.INTEGER);
      ps.setObject(7, quota, Types.INTEGER);
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
      ps.setInt(2, quota);
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
