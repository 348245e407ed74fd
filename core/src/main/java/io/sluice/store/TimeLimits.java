package io.sluice.store;

import java.time.Duration;

/**
 * A job's time limits as submitted; each is null when not given: {@code taskTimeout} (how long one
 * attempt of a task may run, measured from its claim on PostgreSQL's clock), {@code deadline} (how
 * long after its submission the job must have finished) and {@code retryBase}/{@code retryMax} (the
 * job's own retry backoff instead of the worker's {@code SLUICE_RETRY_BASE}/{@code MAX}; both or
 * neither).
 */
public record TimeLimits(
    Duration taskTimeout, Duration deadline, Duration retryBase, Duration retryMax) {
  /** No limits: the defaults of the workers, no timeout, no deadline. */
  public static final TimeLimits NONE = new TimeLimits(null, null, null, null);

  private static final String TIMED_OUT = "timed out after ";

  public TimeLimits {
    if ((retryBase == null) != (retryMax == null)) {
      throw new IllegalArgumentException("retryBase and retryMax go together");
    }
  }

  /** The same limits with another task timeout (a stage's own). */
  public TimeLimits withTaskTimeout(Duration timeout) {
    return new TimeLimits(timeout, deadline, retryBase, retryMax);
  }

  /** The error of an attempt that ran past {@code timeout}: "timed out after 30s". */
  public static String timedOutError(Duration timeout) {
    return TIMED_OUT + text(timeout);
  }

  /** Whether {@code error} is that of an attempt that ran past its timeout. */
  public static boolean isTimeout(String error) {
    return error != null && error.startsWith(TIMED_OUT);
  }

  /** A duration as the API writes it: 500ms, 30s, 5m, 1h, or 90500ms when no unit divides it. */
  public static String text(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms > 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 && ms > 0 ? ms / 1000 + "s" : ms + "ms";
  }

  static Long millis(Duration d) {
    return d == null ? null : d.toMillis();
  }

  static Duration duration(long millis, boolean wasNull) {
    return wasNull ? null : Duration.ofMillis(millis);
  }
}
