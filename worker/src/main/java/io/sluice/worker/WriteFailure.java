package io.sluice.worker;

import io.sluice.store.SqlError;
import java.util.Set;

/**
 * Tells a failure that retrying may cure from one it never will, by the SQLSTATE class PostgreSQL
 * answered with. Permanent: data exceptions (22: a {@code \u0000} in text or jsonb, an interval out
 * of range), integrity violations (23), syntax or access errors (42), check-option violations (44)
 * and unsupported features (0A) — the same statement fails the same way every time. Everything else
 * is transient: connection exceptions (08), rollbacks such as serialization failures and deadlocks
 * (40), operator intervention and statement timeouts (57), insufficient resources (53), lock
 * timeouts (55), and any failure with no SQLSTATE (Redis, an exhausted pool).
 */
final class WriteFailure {
  private static final Set<String> PERMANENT_CLASSES = Set.of("22", "23", "42", "44", "0A");
  private static final int MAX_ERROR = 1000;

  private WriteFailure() {}

  static boolean isPermanent(Throwable e) {
    SqlError sql = SqlError.of(e);
    String state = sql == null ? null : sql.state();
    return state != null
        && state.length() >= 2
        && PERMANENT_CLASSES.contains(state.substring(0, 2));
  }

  /** A storable description: the SQLSTATE and message, without NULs, at most 1000 characters. */
  static String describe(Throwable e) {
    SqlError sql = SqlError.of(e);
    String detail = sql == null ? e.toString() : "SQLSTATE " + sql.state() + ": " + sql.message();
    String text = "the worker could not store this task's result (" + detail + ")";
    text = text.replace("\u0000", "\\u0000");
    return text.length() <= MAX_ERROR ? text : text.substring(0, MAX_ERROR);
  }
}
