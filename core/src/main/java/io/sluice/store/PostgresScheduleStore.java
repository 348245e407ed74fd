package io.sluice.store;

import io.sluice.json.Json;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@code schedules} table: definitions, their next fire time and counters. The leader's scan
 * locks the due rows (FOR UPDATE SKIP LOCKED), so two firers never fire one schedule at once; the
 * fires themselves are {@link PostgresScheduleFires}'.
 */
public final class PostgresScheduleStore {
  private static final String COLUMNS =
      """
      id, tenant, name, cron, every_ms, timezone, job::text AS job, overlap, catch_up, paused,
      version, next_fire_at, last_fire_at, last_job_id, fires, skipped
      """;

  private static final String NOW = "SELECT now()";

  private static final String INSERT =
      """
      INSERT INTO schedules (id, tenant, name, cron, every_ms, timezone, job, overlap, catch_up,
                             paused, next_fire_at)
      VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?)
      ON CONFLICT ON CONSTRAINT schedules_name_per_tenant DO NOTHING
      """;

  private static final String FIND =
      "SELECT " + COLUMNS + " FROM schedules WHERE tenant = ? AND name = ?";

  // A PATCH locks the row first: it waits for a firing pass that holds it, then sees its fires.
  private static final String LOCK = FIND + " FOR UPDATE";

  private static final String PAGE =
      "SELECT "
          + COLUMNS
          + """
           FROM schedules
          WHERE (?::text IS NULL OR tenant = ?::text)
            AND (?::text IS NULL OR (tenant, name) > (?::text, ?::text))
          ORDER BY tenant, name
          LIMIT ?
          """;

  // The definition's compare-and-set: a PATCH based on an older read changes nothing.
  private static final String REDEFINE =
      "UPDATE schedules SET cron = ?, every_ms = ?, job = ?::jsonb, overlap = ?, catch_up = ?,"
          + " paused = ?, next_fire_at = ?, version = version + 1, updated_at = now()"
          + " WHERE tenant = ? AND name = ? AND version = ? RETURNING "
          + COLUMNS;

  private static final String DELETE = "DELETE FROM schedules WHERE tenant = ? AND name = ?";

  // Locked until the firing transaction commits: a second firer skips them, and a PATCH waits.
  private static final String DUE =
      "SELECT "
          + COLUMNS
          + """
           FROM schedules
          WHERE NOT paused AND next_fire_at <= now()
          ORDER BY next_fire_at
          LIMIT ?
          FOR UPDATE SKIP LOCKED
          """;

  private static final String ADVANCE =
      """
      UPDATE schedules s
         SET next_fire_at = a.next_fire_at,
             last_fire_at = COALESCE(a.fire_time, s.last_fire_at),
             last_job_id = COALESCE(a.job_id, s.last_job_id),
             fires = s.fires + a.fired, skipped = s.skipped + a.skipped
        FROM unnest(?::uuid[], ?::timestamptz[], ?::timestamptz[], ?::uuid[], ?::int[], ?::int[])
             AS a(id, next_fire_at, fire_time, job_id, fired, skipped)
       WHERE s.id = a.id
      """;

  /**
   * How a fired (or passed-over) schedule moves on: its next fire time, and the fire it just made
   * ({@code fireTime} null when it made none), its job null when skipped.
   */
  public record Advance(UUID id, Instant nextFireAt, Instant fireTime, UUID jobId) {}

  /** What a PATCH did. */
  public sealed interface Redefined permits Changed, Missing, Stale {}

  /** The schedule as it is now. */
  public record Changed(Schedule schedule) implements Redefined {}

  /** No such schedule in the tenant. */
  public record Missing() implements Redefined {}

  /** The schedule is at {@code currentVersion}, not the one the PATCH named; nothing changed. */
  public record Stale(long currentVersion) implements Redefined {}

  /** PostgreSQL's clock: fire times are judged by it, not by a coordinator's. */
  public Instant now(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(NOW);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  /** Inserts the schedule; false when its tenant has one of that name already. */
  public boolean insert(Connection c, Schedule s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      ps.setObject(1, s.id());
      ps.setString(2, s.tenant());
      ps.setString(3, s.name());
      ps.setString(4, s.cron());
      setEvery(ps, 5, s.every());
      ps.setString(6, s.timezone());
      ps.setString(7, Json.write(s.job()));
      ps.setString(8, s.overlap());
      ps.setString(9, s.catchUp());
      ps.setBoolean(10, s.paused());
      ps.setTimestamp(11, Timestamp.from(s.nextFireAt()));
      return ps.executeUpdate() == 1;
    }
  }

  public Optional<Schedule> find(Connection c, String tenant, String name) throws SQLException {
    return one(c, FIND, tenant, name);
  }

  /** The schedule, locked until the caller's transaction ends (a firing pass waits). */
  public Optional<Schedule> lock(Connection c, String tenant, String name) throws SQLException {
    return one(c, LOCK, tenant, name);
  }

  private static Optional<Schedule> one(Connection c, String sql, String tenant, String name)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, tenant);
      ps.setString(2, name);
      List<Schedule> found = all(ps);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }
  }

  /** Up to {@code limit} schedules in {@code scope} after (tenant, name), in that order. */
  public List<Schedule> page(
      Connection c, TenantScope scope, String afterTenant, String afterName, int limit)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PAGE)) {
      scope.bind(ps, 1);
      ps.setString(3, afterTenant);
      ps.setString(4, afterTenant);
      ps.setString(5, afterName);
      ps.setInt(6, limit);
      return all(ps);
    }
  }

  /**
   * Writes {@code s}'s definition if the row is still at {@code expectedVersion}; the caller locked
   * it ({@link #lock}) and chose a next fire time after its last one.
   */
  public Redefined redefine(Connection c, Schedule s, long expectedVersion) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(REDEFINE)) {
      ps.setString(1, s.cron());
      setEvery(ps, 2, s.every());
      ps.setString(3, Json.write(s.job()));
      ps.setString(4, s.overlap());
      ps.setString(5, s.catchUp());
      ps.setBoolean(6, s.paused());
      ps.setTimestamp(7, Timestamp.from(s.nextFireAt()));
      ps.setString(8, s.tenant());
      ps.setString(9, s.name());
      ps.setLong(10, expectedVersion);
      List<Schedule> changed = all(ps);
      if (!changed.isEmpty()) {
        return new Changed(changed.get(0));
      }
    }
    return find(c, s.tenant(), s.name())
        .<Redefined>map(current -> new Stale(current.version()))
        .orElseGet(Missing::new);
  }

  /** Deletes the schedule and its fires (its jobs stay); false when there was none. */
  public boolean delete(Connection c, String tenant, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DELETE)) {
      ps.setString(1, tenant);
      ps.setString(2, name);
      return ps.executeUpdate() == 1;
    }
  }

  /** Up to {@code limit} due, unpaused schedules, locked until the caller's transaction ends. */
  public List<Schedule> lockDue(Connection c, int limit) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DUE)) {
      ps.setInt(1, limit);
      return all(ps);
    }
  }

  /** Moves the schedules on in one statement, counting their fires and skips. */
  public void advance(Connection c, List<Advance> moves) throws SQLException {
    if (moves.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(ADVANCE)) {
      ps.setArray(1, c.createArrayOf("uuid", moves.stream().map(Advance::id).toArray()));
      ps.setArray(2, times(c, moves.stream().map(Advance::nextFireAt).toList()));
      ps.setArray(3, times(c, moves.stream().map(Advance::fireTime).toList()));
      ps.setArray(4, c.createArrayOf("uuid", moves.stream().map(Advance::jobId).toArray()));
      ps.setArray(
          5,
          c.createArrayOf(
              "integer",
              moves.stream().map(m -> m.jobId() != null ? 1 : 0).toArray(Integer[]::new)));
      ps.setArray(
          6,
          c.createArrayOf(
              "integer",
              moves.stream()
                  .map(m -> m.fireTime() != null && m.jobId() == null ? 1 : 0)
                  .toArray(Integer[]::new)));
      ps.executeUpdate();
    }
  }

  private static void setEvery(PreparedStatement ps, int index, Duration every)
      throws SQLException {
    if (every == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, every.toMillis());
    }
  }

  /** Instants as a {@code timestamptz[]}; a null stays null. */
  static Array times(Connection c, List<Instant> instants) throws SQLException {
    return c.createArrayOf(
        "timestamptz", instants.stream().map(i -> i == null ? null : Timestamp.from(i)).toArray());
  }

  private static List<Schedule> all(PreparedStatement ps) throws SQLException {
    List<Schedule> found = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        found.add(read(rs));
      }
    }
    return found;
  }

  private static Schedule read(ResultSet rs) throws SQLException {
    long everyMs = rs.getLong("every_ms");
    Duration every = rs.wasNull() ? null : Duration.ofMillis(everyMs);
    return new Schedule(
        rs.getObject("id", UUID.class),
        rs.getString("tenant"),
        rs.getString("name"),
        rs.getString("cron"),
        every,
        rs.getString("timezone"),
        Json.read(rs.getString("job")),
        rs.getString("overlap"),
        rs.getString("catch_up"),
        rs.getBoolean("paused"),
        rs.getLong("version"),
        instant(rs, "next_fire_at"),
        instant(rs, "last_fire_at"),
        rs.getObject("last_job_id", UUID.class),
        rs.getLong("fires"),
        rs.getLong("skipped"));
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    Timestamp t = rs.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }
}
