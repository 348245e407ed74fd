package io.sluice.store;

import java.sql.SQLException;

/**
 * The SQLSTATE and message of the PostgreSQL error behind a failure: what a caller outside the
 * store needs to tell a failure that retrying may cure from one it never will, without handling
 * JDBC types.
 */
public record SqlError(String state, String message) {

  /** The first SQL error in {@code e}'s cause chain, or null when there is none. */
  public static SqlError of(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) {
        return new SqlError(sql.getSQLState(), sql.getMessage());
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
