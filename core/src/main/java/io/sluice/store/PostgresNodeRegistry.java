package io.sluice.store;

import io.sluice.health.LoopSupervisor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code nodes} and {@code listeners} tables: every coordinator and worker heartbeats its row
 * and the state of each of its loops (versioned rows, one statement each); the leader marks nodes
 * that stopped heartbeating DEAD and cuts their leases short so their tasks are reclaimed at once.
 */
public final class PostgresNodeRegistry {
  private static final String HEARTBEAT =
      """
      INSERT INTO nodes (id, kind, status, info) VALUES (?, ?, ?, ?::jsonb)
      ON CONFLICT (id) DO UPDATE
         SET status = EXCLUDED.status, info = EXCLUDED.info, heartbeat_at = now(),
             version = nodes.version + 1
      """;

  private static final String LISTENERS =
      """
      INSERT INTO listeners (node_id, name, state, restarts, last_error)
      SELECT ?, l.name, l.state, l.restarts, l.last_error
        FROM unnest(?::text[], ?::text[], ?::int[], ?::text[]) AS l(name, state, restarts, last_error)
      ON CONFLICT (node_id, name) DO UPDATE
         SET state = EXCLUDED.state, restarts = EXCLUDED.restarts, last_error = EXCLUDED.last_error,
             heartbeat_at = now(), version = listeners.version + 1
      """;

  private static final String MARK_DEAD =
      """
      UPDATE nodes SET status = 'DEAD', version = version + 1
       WHERE status IN ('UP', 'DRAINING') AND heartbeat_at < now() - ? * interval '1 millisecond'
      RETURNING id
      """;

  private static final String EXPIRE_LEASES =
      """
      UPDATE tasks SET lease_expires_at = now() - interval '1 millisecond'
       WHERE status = 'RUNNING' AND worker_id = ANY(?::text[]) AND lease_expires_at > now()
      """;

  /** Creates or refreshes this node's row. */
  public void heartbeat(Connection c, String nodeId, String kind, String status, String infoJson)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
      ps.setString(1, nodeId);
      ps.setString(2, kind);
      ps.setString(3, status);
      ps.setString(4, infoJson);
      ps.executeUpdate();
    }
  }

  /** Records the state of every supervised loop of this node in one statement. */
  public void heartbeatListeners(Connection c, String nodeId, List<LoopSupervisor.Loop> loops)
      throws SQLException {
    if (loops.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(LISTENERS)) {
      ps.setString(1, nodeId);
      ps.setArray(
          2, c.createArrayOf("text", loops.stream().map(LoopSupervisor.Loop::name).toArray()));
      ps.setArray(
          3, c.createArrayOf("text", loops.stream().map(l -> l.alive() ? "UP" : "DOWN").toArray()));
      ps.setArray(
          4, c.createArrayOf("int4", loops.stream().map(LoopSupervisor.Loop::restarts).toArray()));
      ps.setArray(
          5, c.createArrayOf("text", loops.stream().map(LoopSupervisor.Loop::lastError).toArray()));
      ps.executeUpdate();
    }
  }

  /**
   * Marks nodes silent for longer than {@code silence} DEAD and ends their leases now, so the next
   * sweep reclaims their tasks instead of waiting out the leases; returns the nodes marked.
   */
  public List<String> markDead(Connection c, Duration silence) throws SQLException {
    List<String> dead = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(MARK_DEAD)) {
      ps.setLong(1, silence.toMillis());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          dead.add(rs.getString(1));
        }
      }
    }
    if (!dead.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(EXPIRE_LEASES)) {
        ps.setArray(1, c.createArrayOf("text", dead.toArray()));
        ps.executeUpdate();
      }
    }
    return dead;
  }
}
