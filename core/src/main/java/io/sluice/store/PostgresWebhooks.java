package io.sluice.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The webhook tables: job callbacks (written with the job), the outbox (written by the terminal
 * transition's trigger, V14) and the record of every delivery attempt. Claims and outcomes are one
 * statement per batch; an outcome counts only for the claim it answers (its attempt number), so a
 * relay that lost its lease cannot overwrite a newer one's.
 */
public final class PostgresWebhooks {
  private static final String INSERT_CALLBACKS =
      """
      INSERT INTO job_callbacks (job_id, url, events)
      SELECT id, url, string_to_array(events, ',')
        FROM unnest(?::uuid[], ?::text[], ?::text[]) AS n(id, url, events)
      """;

  // Due rows nobody holds, or held under an epoch that is not the current leader's (its relay is
  // gone or deposed): taken for the lease, the attempt counted now.
  private static final String CLAIM =
      """
      UPDATE webhook_outbox o
         SET attempts = o.attempts + 1, lease_epoch = ?, lease_until = now() + ?::interval
       WHERE o.id IN (SELECT id FROM webhook_outbox
                       WHERE status = 'PENDING' AND next_attempt_at <= now()
                         AND (lease_until IS NULL OR lease_until < now() OR lease_epoch <> ?)
                       ORDER BY next_attempt_at
                       LIMIT ?
                       FOR UPDATE SKIP LOCKED)
      RETURNING o.id, o.tenant, o.url, o.event, o.body::text, o.attempts, o.created_at
      """;

  private static final String RECORD_ATTEMPTS =
      """
      INSERT INTO webhook_attempts (outbox_id, attempt, status_code, error, duration_ms)
      SELECT * FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::int[])
      ON CONFLICT DO NOTHING
      """;

  // next_in_ms NULL: delivered (code 2xx) or given up; else due again after that many ms.
  private static final String RECORD_OUTCOMES =
      """
      UPDATE webhook_outbox o
         SET status = n.status, last_status_code = n.code, last_error = n.error,
             next_attempt_at = CASE WHEN n.next_in_ms IS NULL THEN o.next_attempt_at
                                    ELSE now() + n.next_in_ms * interval '1 millisecond' END,
             finished_at = CASE WHEN n.status = 'PENDING' THEN NULL ELSE now() END,
             lease_epoch = NULL, lease_until = NULL
        FROM unnest(?::bigint[], ?::int[], ?::text[], ?::int[], ?::text[], ?::bigint[])
             AS n(id, attempt, status, code, error, next_in_ms)
       WHERE o.id = n.id AND o.attempts = n.attempt AND o.status = 'PENDING'
      """;

  private static final String PAGE =
      """
      SELECT o.id, o.job_id, o.tenant, o.url, o.event, o.status, o.attempts, o.last_status_code,
             o.last_error, o.created_at, o.finished_at, o.next_attempt_at
        FROM webhook_outbox o
       WHERE (?::text IS NULL OR o.tenant = ?::text) AND (?::text IS NULL OR o.status = ?::text)
         AND (?::uuid IS NULL OR o.job_id = ?::uuid)
       ORDER BY o.id DESC
       LIMIT ?
      """;

  private static final String PENDING =
      "SELECT count(*) FROM webhook_outbox WHERE status = 'PENDING'";

  /** A delivery a relay holds: its body as stored, and which attempt this is. */
  public record Delivery(
      long id,
      String tenant,
      String url,
      String event,
      String body,
      int attempt,
      Instant createdAt) {}

  /**
   * How an attempt ended: {@code code} the HTTP status (null when none came back), {@code status}
   * the row's new state, {@code retryIn} when it is due again (null unless PENDING).
   */
  public record Outcome(
      long id,
      int attempt,
      Integer code,
      String error,
      int durationMs,
      String status,
      Duration retryIn) {}

  /** A delivery as the API lists it. */
  public record View(
      long id,
      UUID jobId,
      String tenant,
      String url,
      String event,
      String status,
      int attempts,
      Integer lastStatusCode,
      String lastError,
      Instant createdAt,
      Instant finishedAt,
      Instant nextAttemptAt) {}

  /** Registers the callbacks of jobs just inserted in this transaction. */
  public void insertCallbacks(Connection c, List<UUID> jobs, List<NewJob.Callback> callbacks)
      throws SQLException {
    if (jobs.isEmpty()) {
      return;
    }
    String[] urls = new String[jobs.size()];
    String[] events = new String[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      urls[i] = callbacks.get(i).url();
      events[i] = String.join(",", callbacks.get(i).events());
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_CALLBACKS)) {
      ps.setArray(1, c.createArrayOf("uuid", jobs.toArray()));
      ps.setArray(2, c.createArrayOf("text", urls));
      ps.setArray(3, c.createArrayOf("text", events));
      ps.executeUpdate();
    }
  }

  /**
   * Claims up to {@code limit} due deliveries for the leader of {@code epoch}, for {@code lease}.
   */
  public List<Delivery> claim(Connection c, long epoch, int limit, Duration lease)
      throws SQLException {
    List<Delivery> claimed = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
      ps.setLong(1, epoch);
      ps.setString(2, lease.toMillis() + " milliseconds");
      ps.setLong(3, epoch);
      ps.setInt(4, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          claimed.add(
              new Delivery(
                  rs.getLong(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getInt(6),
                  rs.getTimestamp(7).toInstant()));
        }
      }
    }
    return claimed;
  }

  /** Records the attempts and applies each outcome to the row it claimed; returns rows changed. */
  public int record(Connection c, List<Outcome> outcomes) throws SQLException {
    if (outcomes.isEmpty()) {
      return 0;
    }
    int n = outcomes.size();
    Long[] ids = new Long[n];
    Integer[] attempts = new Integer[n];
    Integer[] codes = new Integer[n];
    String[] errors = new String[n];
    Integer[] durations = new Integer[n];
    String[] statuses = new String[n];
    Long[] retryIn = new Long[n];
    for (int i = 0; i < n; i++) {
      Outcome o = outcomes.get(i);
      ids[i] = o.id();
      attempts[i] = o.attempt();
      codes[i] = o.code();
      errors[i] = o.error();
      durations[i] = o.durationMs();
      statuses[i] = o.status();
      retryIn[i] = o.retryIn() == null ? null : o.retryIn().toMillis();
    }
    Array idArray = c.createArrayOf("bigint", ids);
    Array attemptArray = c.createArrayOf("integer", attempts);
    Array codeArray = c.createArrayOf("integer", codes);
    Array errorArray = c.createArrayOf("text", errors);
    try (PreparedStatement ps = c.prepareStatement(RECORD_ATTEMPTS)) {
      ps.setArray(1, idArray);
      ps.setArray(2, attemptArray);
      ps.setArray(3, codeArray);
      ps.setArray(4, errorArray);
      ps.setArray(5, c.createArrayOf("integer", durations));
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(RECORD_OUTCOMES)) {
      ps.setArray(1, idArray);
      ps.setArray(2, attemptArray);
      ps.setArray(3, c.createArrayOf("text", statuses));
      ps.setArray(4, codeArray);
      ps.setArray(5, errorArray);
      ps.setArray(6, c.createArrayOf("bigint", retryIn));
      return ps.executeUpdate();
    }
  }

  /** Deliveries newest first, in {@code scope}, of {@code status} and {@code job} when not null. */
  public List<View> page(Connection c, TenantScope scope, String status, UUID job, int limit)
      throws SQLException {
    List<View> page = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(PAGE)) {
      scope.bind(ps, 1);
      ps.setString(3, status);
      ps.setString(4, status);
      ps.setObject(5, job);
      ps.setObject(6, job);
      ps.setInt(7, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          page.add(
              new View(
                  rs.getLong(1),
                  rs.getObject(2, UUID.class),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6),
                  rs.getInt(7),
                  (Integer) rs.getObject(8),
                  rs.getString(9),
                  instant(rs.getTimestamp(10)),
                  instant(rs.getTimestamp(11)),
                  instant(rs.getTimestamp(12))));
        }
      }
    }
    return page;
  }

  /** Deliveries not yet delivered nor given up. */
  public long pending(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PENDING);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }
}
