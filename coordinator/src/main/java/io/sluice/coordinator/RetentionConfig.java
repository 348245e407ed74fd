package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * How long finished jobs are kept, and how the leader deletes them once they expire.
 *
 * @param retention how long a finished (SUCCEEDED, FAILED or CANCELLED) job is kept after it
 *     finished, with its stages, tasks and events ({@code SLUICE_RETENTION}, default 7d; {@code 0}
 *     or {@code off}: kept forever, shown here as {@link Duration#ZERO})
 * @param interval how long the leader waits between two deletion runs ({@code
 *     SLUICE_RETENTION_INTERVAL}, default 1m)
 * @param jobBatch how many jobs one batch marks and deletes ({@code SLUICE_RETENTION_BATCH_JOBS},
 *     default 500, 1-10000)
 * @param rowBatch how many task or event rows one transaction deletes ({@code
 *     SLUICE_RETENTION_BATCH_ROWS}, default 5000, 100-100000)
 */
public record RetentionConfig(Duration retention, Duration interval, int jobBatch, int rowBatch) {

  /** Seven days, a run a minute, 500 jobs and 5000 rows per transaction. */
  public static final RetentionConfig DEFAULT =
      new RetentionConfig(Duration.ofDays(7), Duration.ofMinutes(1), 500, 5000);

  /** Keeps every job forever. */
  public static final RetentionConfig OFF = DEFAULT.withRetention(Duration.ZERO);

  public RetentionConfig {
    if (retention == null || retention.isNegative()) {
      throw new ConfigException(
          "SLUICE_RETENTION", String.valueOf(retention), "must be a duration >= 0 (0: off)");
    }
    if (interval == null || !interval.isPositive()) {
      throw new ConfigException(
          "SLUICE_RETENTION_INTERVAL", String.valueOf(interval), "must be a positive duration");
    }
    if (jobBatch < 1 || jobBatch > 10_000) {
      throw new ConfigException(
          "SLUICE_RETENTION_BATCH_JOBS", String.valueOf(jobBatch), "must be 1-10000");
    }
    if (rowBatch < 100 || rowBatch > 100_000) {
      throw new ConfigException(
          "SLUICE_RETENTION_BATCH_ROWS", String.valueOf(rowBatch), "must be 100-100000");
    }
  }

  /** Reads the {@code SLUICE_RETENTION*} variables; unset ones take the defaults. */
  public static RetentionConfig fromEnv(Env env) {
    return new RetentionConfig(
        retention(env.get("SLUICE_RETENTION")),
        env.duration("SLUICE_RETENTION_INTERVAL", DEFAULT.interval()),
        env.intValue("SLUICE_RETENTION_BATCH_JOBS", DEFAULT.jobBatch(), 1, 10_000),
        env.intValue("SLUICE_RETENTION_BATCH_ROWS", DEFAULT.rowBatch(), 100, 100_000));
  }

  /** {@code 7d}, {@code 36h}, {@code 10m}, {@code PT1H}; {@code 0} or {@code off} disables. */
  static Duration retention(String value) {
    if (value == null || value.isBlank()) {
      return DEFAULT.retention();
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("0") || v.equals("off")) {
      return Duration.ZERO;
    }
    try {
      Duration d = Env.parseDuration(v);
      if (!d.isPositive()) {
        throw new ConfigException("SLUICE_RETENTION", value, "must be positive, or 0/off");
      }
      return d;
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new ConfigException(
          "SLUICE_RETENTION",
          value,
          "must be a duration such as 7d, 36h or 10m, or 0/off to keep jobs forever");
    }
  }

  /** True unless retention is off. */
  public boolean enabled() {
    return retention.isPositive();
  }

  /** This with another retention ({@link Duration#ZERO}: off). */
  public RetentionConfig withRetention(Duration d) {
    return new RetentionConfig(d, interval, jobBatch, rowBatch);
  }

  /** This with another interval between runs. */
  public RetentionConfig withInterval(Duration d) {
    return new RetentionConfig(retention, d, jobBatch, rowBatch);
  }

  /** This with other batch bounds. */
  public RetentionConfig withBatches(int jobs, int rows) {
    return new RetentionConfig(retention, interval, jobs, rows);
  }
}
