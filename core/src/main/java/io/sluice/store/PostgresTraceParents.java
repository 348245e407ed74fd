package io.sluice.store;

import static io.sluice.store.Sql.texts;
import static io.sluice.store.Sql.uuids;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The W3C {@code traceparent} each job row carries (issue 14): a job's span, or for a pipeline's
 * stage row its stage's span. Written once, before the job is dispatched; read by the claim of each
 * task ({@link PostgresTaskStore}) and by the collector.
 */
public final class PostgresTraceParents {
  // One statement for any number of rows; a row that has one keeps it (a retried write of the
  // same submission never moves a job to another trace).
  private static final String SET =
      """
      UPDATE jobs j SET trace_parent = t.trace_parent
        FROM unnest(?::uuid[], ?::text[]) AS t(id, trace_parent)
       WHERE j.id = t.id AND j.trace_parent IS NULL
      """;

  private static final String OF = "SELECT trace_parent FROM jobs WHERE id = ?";

  private static final String STAGES =
      "SELECT id, stage_name FROM jobs WHERE parent_id = ? ORDER BY stage_idx";

  /** Stores each job's traceparent (id to traceparent) in one statement. */
  public void set(Connection c, Map<UUID, String> traceParents) throws SQLException {
    if (traceParents.isEmpty()) {
      return;
    }
    var entries = traceParents.entrySet();
    try (PreparedStatement ps = c.prepareStatement(SET)) {
      ps.setArray(1, uuids(c, entries, Map.Entry::getKey));
      ps.setArray(2, texts(c, entries, Map.Entry::getValue));
      ps.executeUpdate();
    }
  }

  /** The job's (or stage's) traceparent; empty when it has none. */
  public Optional<String> of(Connection c, UUID jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(OF)) {
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  /** A pipeline's stage rows, id to stage name, in stage order. */
  public Map<UUID, String> stages(Connection c, UUID pipelineId) throws SQLException {
    Map<UUID, String> stages = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(STAGES)) {
      ps.setObject(1, pipelineId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stages.put(rs.getObject(1, UUID.class), rs.getString(2));
        }
      }
    }
    return stages;
  }
}
