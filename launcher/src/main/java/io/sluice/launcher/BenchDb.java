package io.sluice.launcher;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bench's own connection to the database the stack runs on, for the servers' timestamps and
 * counters. Every query carries the comment {@value #MARK}, so {@code pg_stat_statements} figures
 * can leave them out, and each one counts in {@link #ownTransactions()}, so the transaction count
 * can too.
 */
final class BenchDb implements AutoCloseable {
  static final String MARK = "/* sluice-bench */";

  private final Connection connection;
  private final AtomicLong own = new AtomicLong();

  private BenchDb(Connection connection) {
    this.connection = connection;
  }

  /** Connects as the stack's coordinator does: {@code SLUICE_DATABASE_URL/_USER/_PASSWORD}. */
  static BenchDb connect(Map<String, String> env) {
    try {
      return new BenchDb(
          DriverManager.getConnection(
              env.get("SLUICE_DATABASE_URL"),
              env.get("SLUICE_DATABASE_USER"),
              env.get("SLUICE_DATABASE_PASSWORD")));
    } catch (SQLException e) {
      throw new LauncherException(
          LauncherException.FAILED, "bench: cannot connect to the database: " + e.getMessage(), e);
    }
  }

  /** Runs one autocommit query, the bench's mark prepended, and returns every row. */
  synchronized List<Object[]> query(String sql, Object... params) {
    own.incrementAndGet();
    try (PreparedStatement s = connection.prepareStatement(MARK + " " + sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = s.executeQuery()) {
        int columns = rs.getMetaData().getColumnCount();
        List<Object[]> rows = new ArrayList<>();
        while (rs.next()) {
          Object[] row = new Object[columns];
          for (int c = 0; c < columns; c++) {
            row[c] = rs.getObject(c + 1);
          }
          rows.add(row);
        }
        return rows;
      }
    } catch (SQLException e) {
      throw new LauncherException(
          LauncherException.FAILED, "bench: query failed: " + e.getMessage() + ": " + sql, e);
    }
  }

  /** The first column of the first row, as a number (0 when null). */
  double number(String sql, Object... params) {
    List<Object[]> rows = query(sql, params);
    return rows.isEmpty() || rows.get(0)[0] == null ? 0 : ((Number) rows.get(0)[0]).doubleValue();
  }

  /** Whether a statement succeeds (e.g. {@code CREATE EXTENSION}); false with the reason logged. */
  synchronized boolean tryExecute(String sql, PrintStream err) {
    own.incrementAndGet();
    try (var s = connection.createStatement()) {
      s.execute(MARK + " " + sql);
      return true;
    } catch (SQLException e) {
      err.println("bench: " + sql + ": " + e.getMessage());
      return false;
    }
  }

  /** How many transactions this object has run so far. */
  long ownTransactions() {
    return own.get();
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing a connection the bench no longer needs: nothing to do about a failure.
    }
  }
}
