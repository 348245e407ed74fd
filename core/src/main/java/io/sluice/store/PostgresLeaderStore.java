package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * The {@code coordinator_leader} row: the epoch that fences leader-only writes. Taking over needs
 * the previous leader's lease to have run out in PostgreSQL's clock, whatever Redis says.
 */
public final class PostgresLeaderStore {
  private static final String TAKE_OVER =
      """
      UPDATE coordinator_leader
         SET epoch = epoch + 1, node_id = ?, redis_token = ?,
             lease_until = now() + ? * interval '1 millisecond', version = version + 1
       WHERE id = 1 AND (lease_until < now() OR node_id = ?)
      RETURNING epoch
      """;

  private static final String RENEW =
      """
      UPDATE coordinator_leader
         SET lease_until = now() + ? * interval '1 millisecond', version = version + 1
       WHERE id = 1 AND epoch = ? AND node_id = ? AND lease_until > now()
      RETURNING epoch
      """;

  // FOR SHARE makes a take-over wait for this transaction: a leader's write and its deposition can
  // never interleave.
  private static final String FENCE =
      """
      SELECT epoch FROM coordinator_leader
       WHERE id = 1 AND epoch = ? AND node_id = ? AND lease_until > now()
      FOR SHARE
      """;

  private static final String RESIGN =
      "UPDATE coordinator_leader SET lease_until = '-infinity', version = version + 1"
          + " WHERE id = 1 AND epoch = ? AND node_id = ?";

  /** Becomes leader with a new epoch if the last leader's lease ran out (or it was this node). */
  public OptionalLong takeOver(Connection c, String nodeId, long redisToken, Duration lease)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TAKE_OVER)) {
      ps.setString(1, nodeId);
      ps.setLong(2, redisToken);
      ps.setLong(3, lease.toMillis());
      ps.setString(4, nodeId);
      return epoch(ps);
    }
  }

  /** Extends the lease; empty when this node was deposed. */
  public OptionalLong renew(Connection c, String nodeId, long epoch, Duration lease)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RENEW)) {
      ps.setLong(1, lease.toMillis());
      ps.setLong(2, epoch);
      ps.setString(3, nodeId);
      return epoch(ps);
    }
  }

  /** Inside a transaction: true while {@code epoch} is still the leader's, locked until commit. */
  public boolean holdFence(Connection c, String nodeId, long epoch) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FENCE)) {
      ps.setLong(1, epoch);
      ps.setString(2, nodeId);
      return epoch(ps).isPresent();
    }
  }

  /** Gives the lease up at once, so another coordinator need not wait for it to expire. */
  public void resign(Connection c, String nodeId, long epoch) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RESIGN)) {
      ps.setLong(1, epoch);
      ps.setString(2, nodeId);
      ps.executeUpdate();
    }
  }

  private static OptionalLong epoch(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
    }
  }
}
