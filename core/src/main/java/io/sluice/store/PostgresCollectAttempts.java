package io.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * The collection bookkeeping columns of {@code jobs} ({@code collect_attempts}, {@code
 * collect_error}): how often a job's collector was started, durably, so the bound holds across
 * coordinator restarts, and what its last failure was. Every write is fenced by the version the
 * collection gate returned; none of them bumps the version, so the gate's fence still holds for the
 * final commit.
 */
public final class PostgresCollectAttempts {
  // Run right after the RUNNING → COLLECTING compare-and-set, in its transaction: a fresh gate
  // starts a fresh count (a job reopened by a dead-letter requeue is collected anew).
  private static final String FIRST =
      """
      UPDATE jobs SET collect_attempts = 1, collect_error = NULL
       WHERE id = ? AND status = 'COLLECTING' AND version = ?
      RETURNING collect_attempts
      """;

  // The takeover of a collection whose collector stopped heartbeating (its coordinator died or
  // was cut off): one compare-and-set that moves the version on (the old holder's commit then
  // loses) and counts the new start.
  private static final String TAKE_OVER =
      """
      UPDATE jobs SET version = version + 1, updated_at = now(),
                      collect_attempts = collect_attempts + 1
       WHERE id = ? AND status = 'COLLECTING' AND updated_at < now() - ? * interval '1 millisecond'
      RETURNING version, collect_attempts, collect_error
      """;

  // A running collection keeps its row fresh so that nobody takes it over while it works.
  private static final String HEARTBEAT =
      "UPDATE jobs SET updated_at = now() WHERE id = ? AND status = 'COLLECTING' AND version = ?";

  // A failed attempt that will be repeated by the same holder: records why and counts the next.
  private static final String RETRY =
      """
      UPDATE jobs SET collect_attempts = collect_attempts + 1, collect_error = ?, updated_at = now()
       WHERE id = ? AND status = 'COLLECTING' AND version = ?
      RETURNING collect_attempts
      """;

  private final PostgresJobTransitions transitions = new PostgresJobTransitions();

  /** A collection gate held at {@code version}, and which start of the collector this is. */
  public record Gate(long version, int attempt, String lastError) {}

  /**
   * Opens the collection of a job whose tasks are all finished ({@link
   * PostgresJobTransitions#collecting}) and counts its first start, or takes over one that has not
   * heartbeated for {@code staleAfter}; empty when neither applies (an early or duplicate trigger,
   * or a collection that is alive elsewhere).
   */
  public Optional<Gate> open(Connection c, UUID jobId, Duration staleAfter) throws SQLException {
    OptionalLong moved = transitions.collecting(c, jobId);
    return moved.isPresent() ? first(c, jobId, moved.getAsLong()) : takeOver(c, jobId, staleAfter);
  }

  /** Counts the first start of a collection just gated at {@code version}. */
  public Optional<Gate> first(Connection c, UUID jobId, long version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(FIRST)) {
      ps.setObject(1, jobId);
      ps.setLong(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Gate(version, rs.getInt(1), null)) : Optional.empty();
      }
    }
  }

  /** Takes over a collection that has not heartbeated for {@code staleAfter}. */
  public Optional<Gate> takeOver(Connection c, UUID jobId, Duration staleAfter)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TAKE_OVER)) {
      ps.setObject(1, jobId);
      ps.setLong(2, staleAfter.toMillis());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Gate(rs.getLong(1), rs.getInt(2), rs.getString(3)))
            : Optional.empty();
      }
    }
  }

  /** Refreshes a running collection; false when the gate was lost (taken over or finished). */
  public boolean heartbeat(Connection c, UUID jobId, long version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
      ps.setObject(1, jobId);
      ps.setLong(2, version);
      return ps.executeUpdate() == 1;
    }
  }

  /** Records a failed attempt and counts the next one; empty when the gate was lost. */
  public Optional<Gate> retry(Connection c, UUID jobId, long version, String error)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RETRY)) {
      ps.setString(1, error);
      ps.setObject(2, jobId);
      ps.setLong(3, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new Gate(version, rs.getInt(1), error)) : Optional.empty();
      }
    }
  }
}
