package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;

/**
 * How collectors run: on their own bounded pool, each attempt limited in time, each job's attempts
 * limited in number (counted in PostgreSQL, so a restart does not reset the count).
 *
 * @param timeout how long one run of a collector may take before it is interrupted and counted as a
 *     failed attempt ({@code SLUICE_COLLECT_TIMEOUT}, default 5m)
 * @param attempts how many times a job's collector is started before the job fails with the last
 *     error ({@code SLUICE_COLLECT_ATTEMPTS}, default 3)
 * @param threads how many collectors run at once on one coordinator ({@code
 *     SLUICE_COLLECT_THREADS}, default 4); more collections wait in a bounded queue
 */
public record CollectLimits(Duration timeout, int attempts, int threads) {

  /** Five minutes, three attempts, four at once. */
  public static final CollectLimits DEFAULT = new CollectLimits(Duration.ofMinutes(5), 3, 4);

  public CollectLimits {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException("SLUICE_COLLECT_TIMEOUT", String.valueOf(timeout), "must be > 0");
    }
    if (attempts < 1 || attempts > 100) {
      throw new ConfigException(
          "SLUICE_COLLECT_ATTEMPTS", String.valueOf(attempts), "must be 1-100");
    }
    if (threads < 1 || threads > 256) {
      throw new ConfigException("SLUICE_COLLECT_THREADS", String.valueOf(threads), "must be 1-256");
    }
  }

  public static CollectLimits fromEnv(Env env) {
    return new CollectLimits(
        env.duration("SLUICE_COLLECT_TIMEOUT", DEFAULT.timeout()),
        env.intValue("SLUICE_COLLECT_ATTEMPTS", DEFAULT.attempts(), 1, 100),
        env.intValue("SLUICE_COLLECT_THREADS", DEFAULT.threads(), 1, 256));
  }

  /** This with another timeout. */
  public CollectLimits withTimeout(Duration t) {
    return new CollectLimits(t, attempts, threads);
  }

  /** This with another number of attempts. */
  public CollectLimits withAttempts(int n) {
    return new CollectLimits(timeout, n, threads);
  }
}
