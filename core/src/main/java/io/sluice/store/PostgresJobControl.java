package io.sluice.store;

import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The {@code jobs} writes a client asks for through the API: a versioned patch and a cancel. Each
 * decision is one compare-and-set statement; whatever is read after a refusal only explains it.
 */
public final class PostgresJobControl {
  private static final String PATCH =
      """
      UPDATE jobs
         SET priority = COALESCE(?::int, priority), max_attempts = COALESCE(?::int, max_attempts),
             labels = COALESCE(?::jsonb, labels), version = version + 1, updated_at = now()
       WHERE id = ? AND tenant = ? AND version = ? AND status IN ('QUEUED', 'RUNNING')
         AND parent_id IS NULL
      RETURNING version
      """;

  private static final String STATE =
      "SELECT status, version FROM jobs WHERE id = ? AND tenant = ? AND parent_id IS NULL";

  private static final String DUE =
      "SELECT run_at IS NULL OR run_at <= now() FROM jobs WHERE id = ?";

  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresPipelines pipelines = new PostgresPipelines();
  private final PostgresTaskStore tasks = new PostgresTaskStore();

  /** A job's status and version as a refusal reports them. */
  public record State(JobStatus status, long version) {}

  /** What a patch or cancel did. */
  public sealed interface Outcome permits Applied, NotFound, Refused {}

  /** The write happened; the job is now at {@code version}. */
  public record Applied(long version, int tasksCancelled) implements Outcome {}

  /** No job of that id belongs to the tenant. */
  public record NotFound() implements Outcome {}

  /** The compare-and-set lost: the job is at another version or in a state that forbids it. */
  public record Refused(State current) implements Outcome {}

  /**
   * Changes priority, max attempts or labels of a QUEUED or RUNNING job at {@code expectedVersion}
   * and records a PATCH event, in the caller's transaction.
   */
  public Outcome patch(Connection c, String tenant, UUID id, long expectedVersion, JobPatch patch)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PATCH)) {
      ps.setObject(1, patch.priority());
      ps.setObject(2, patch.maxAttempts());
      ps.setString(3, patch.labels() == null ? null : Json.write(patch.labels()));
      ps.setObject(4, id);
      ps.setString(5, tenant);
      ps.setLong(6, expectedVersion);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          long version = rs.getLong(1);
          transitions.event(c, id, version, JobEventKind.PATCH, Json.write(patch));
          return new Applied(version, 0);
        }
      }
    }
    return refusal(c, tenant, id);
  }

  /**
   * Cancels a QUEUED or RUNNING job (at {@code expectedVersion} when given) in the caller's
   * transaction: every task not finished becomes CANCELLED, so a queued one is never claimed and a
   * running one's lease is neither renewed nor able to commit a result, and then the job becomes
   * CANCELLED. When the job's compare-and-set loses, the caller must roll back.
   */
  public Outcome cancel(Connection c, String tenant, UUID id, Long expectedVersion)
      throws SQLException {
    State before = state(c, tenant, id);
    if (before == null) {
      return new NotFound();
    }
    // Tasks first, then the job: the same order as a worker's completion (task rows, then the
    // job's counters), which keeps the two from deadlocking in the common case.
    int cancelled = tasks.cancelUnfinished(c, id);
    // A pipeline's stages go with it, each with its tasks.
    cancelled += pipelines.cancelStages(c, id, PostgresJobTransitions.CANCELLED_BY_REQUEST);
    var moved = transitions.cancelled(c, id, expectedVersion);
    if (moved.isEmpty()) {
      return new Refused(state(c, tenant, id));
    }
    return new Applied(moved.getAsLong(), cancelled);
  }

  /** Whether the job's {@code runAt}, if any, has come (by PostgreSQL's clock). */
  public boolean isDue(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DUE)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return !rs.next() || rs.getBoolean(1);
      }
    }
  }

  private Outcome refusal(Connection c, String tenant, UUID id) throws SQLException {
    State current = state(c, tenant, id);
    return current == null ? new NotFound() : new Refused(current);
  }

  private static State state(Connection c, String tenant, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(STATE)) {
      ps.setObject(1, id);
      ps.setString(2, tenant);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new State(JobStatus.valueOf(rs.getString(1)), rs.getLong(2)) : null;
      }
    }
  }
}
