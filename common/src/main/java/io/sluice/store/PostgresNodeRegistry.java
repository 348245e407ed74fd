package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/** The {@code nodes} table: every coordinator and worker process heartbeats its row here. */
public final class PostgresNodeRegistry {
  private static final String HEARTBEAT =
      """
      INSERT INTO nodes (id, kind, status, info) VALUES (?, ?, ?, ?::jsonb)
      ON CONFLICT (id) DO UPDATE
         SET status = EXCLUDED.status, info = EXCLUDED.info, heartbeat_at = now(),
             version = nodes.version + 1
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
}
