package io.sluice.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.UUID;
import java.util.function.Function;

/** Small JDBC conveniences shared by the repositories. */
final class Sql {
  private Sql() {}

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  static <T> Array uuids(Connection c, Collection<T> items, Function<T, UUID> f)
      throws SQLException {
    return c.createArrayOf("uuid", items.stream().map(f).toArray());
  }

  static <T> Array ints(Connection c, Collection<T> items, Function<T, Integer> f)
      throws SQLException {
    return c.createArrayOf("int4", items.stream().map(f).toArray());
  }

  static <T> Array longs(Connection c, Collection<T> items, Function<T, Long> f)
      throws SQLException {
    return c.createArrayOf("int8", items.stream().map(f).toArray());
  }

  static <T> Array texts(Connection c, Collection<T> items, Function<T, String> f)
      throws SQLException {
    return c.createArrayOf("text", items.stream().map(f).toArray());
  }
}
