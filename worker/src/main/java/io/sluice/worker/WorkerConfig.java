package io.sluice.worker;

import io.sluice.config.ConcurrencyLimits;
import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.Env;
import io.sluice.config.Redact;
import io.sluice.config.RedisConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Everything a worker needs, validated once at construction: every failure names the setting, its
 * value and why. Build one with {@link #builder} or {@link #fromEnv}; the defaults, the README's,
 * live in the {@link Builder} only.
 *
 * @param workerId the name in logs, heartbeats and leases ({@code SLUICE_WORKER_ID})
 * @param queues the queues this worker reads ({@code SLUICE_WORKER_QUEUES})
 * @param concurrency how many tasks run at once
 * @param lease how long a claim lasts without renewal; renewed every third of it
 * @param retryBase the first retry's delay; doubled per attempt, with jitter, up to retryMax
 * @param drainGrace how long a draining worker waits for running tasks before handing them back
 * @param httpPort the port of health, metrics and drain ({@code 0} picks a free one)
 * @param concurrencyLimits how many tasks of a queue or job type may run at once across all workers
 *     ({@link ConcurrencyLimits#fromEnv}); every worker of a queue should carry the same
 * @param commitBacklog how many finished tasks may wait for their completion to be committed; a
 *     worker holds at most {@code concurrency + commitBacklog} claims and stops fetching at that
 */
public record WorkerConfig(
    DatabaseConfig database,
    RedisConfig redis,
    String workerId,
    List<String> queues,
    int concurrency,
    Duration lease,
    Duration retryBase,
    Duration retryMax,
    Duration drainGrace,
    int httpPort,
    ConcurrencyLimits concurrencyLimits,
    int commitBacklog) {

  /** Two writer batches: one being committed while handlers fill the next. */
  public static final int DEFAULT_COMMIT_BACKLOG = 2000;

  public WorkerConfig {
    if (database == null || redis == null) {
      throw new ConfigException("worker", null, "needs a database and a Redis");
    }
    queues = queues == null ? List.of() : List.copyOf(queues);
    concurrencyLimits = concurrencyLimits == null ? ConcurrencyLimits.NONE : concurrencyLimits;
    if (workerId == null || !workerId.matches("\\S{1,128}")) {
      throw new ConfigException(
          "SLUICE_WORKER_ID", workerId, "must be 1-128 characters without spaces");
    }
    if (queues.isEmpty() || !queues.stream().allMatch(q -> q.matches("[A-Za-z0-9_.-]{1,64}"))) {
      throw new ConfigException(
          "SLUICE_WORKER_QUEUES", String.join(",", queues), "must list queue names");
    }
    if (concurrency < 1 || concurrency > 10_000) {
      throw new ConfigException(
          "SLUICE_WORKER_CONCURRENCY", String.valueOf(concurrency), "must be between 1 and 10000");
    }
    if (lease == null || lease.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException("SLUICE_LEASE_DURATION", text(lease), "must be at least 1s");
    }
    requirePositive("SLUICE_RETRY_BASE", retryBase);
    requirePositive("SLUICE_RETRY_MAX", retryMax);
    if (retryMax.compareTo(retryBase) < 0) {
      throw new ConfigException(
          "SLUICE_RETRY_MAX",
          retryMax.toString(),
          "must be at least SLUICE_RETRY_BASE (" + retryBase + "), the first retry's delay");
    }
    requirePositive("SLUICE_DRAIN_GRACE", drainGrace);
    if (httpPort < 0 || httpPort > 65535) {
      throw new ConfigException("SLUICE_HTTP_PORT", String.valueOf(httpPort), "must be 0-65535");
    }
    if (commitBacklog < 1 || commitBacklog > 100_000) {
      throw new ConfigException(
          "SLUICE_WORKER_COMMIT_BACKLOG",
          String.valueOf(commitBacklog),
          "must be between 1 and 100000");
    }
  }

  private static void requirePositive(String setting, Duration d) {
    if (d == null || !d.isPositive()) {
      throw new ConfigException(setting, text(d), "must be a positive duration");
    }
  }

  private static String text(Object value) {
    return value == null ? "(unset)" : value.toString();
  }

  public static Builder builder(DatabaseConfig database, RedisConfig redis) {
    return new Builder(database, redis);
  }

  /** Reads the {@code SLUICE_*} variables the README lists; unset ones take the defaults. */
  public static WorkerConfig fromEnv(Env env) {
    Builder b = builder(DatabaseConfig.fromEnv(env, 6), RedisConfig.fromEnv(env));
    return b.workerId(env.get("SLUICE_WORKER_ID", b.workerId))
        .queues(
            Arrays.stream(env.get("SLUICE_WORKER_QUEUES", String.join(",", b.queues)).split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .toList())
        .concurrency(env.intValue("SLUICE_WORKER_CONCURRENCY", b.concurrency, 1, 10_000))
        .lease(env.duration("SLUICE_LEASE_DURATION", b.lease))
        .retryBase(env.duration("SLUICE_RETRY_BASE", b.retryBase))
        .retryMax(env.duration("SLUICE_RETRY_MAX", b.retryMax))
        .drainGrace(env.duration("SLUICE_DRAIN_GRACE", b.drainGrace))
        .httpPort(env.intValue("SLUICE_HTTP_PORT", b.httpPort, 0, 65535))
        .concurrencyLimits(ConcurrencyLimits.fromEnv(env))
        .commitBacklog(env.intValue("SLUICE_WORKER_COMMIT_BACKLOG", b.commitBacklog, 1, 100_000))
        .build();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return builder(database, redis)
        .workerId(workerId)
        .queues(queues)
        .concurrency(concurrency)
        .lease(lease)
        .retryBase(retryBase)
        .retryMax(retryMax)
        .drainGrace(drainGrace)
        .httpPort(httpPort)
        .concurrencyLimits(concurrencyLimits)
        .commitBacklog(commitBacklog);
  }

  /**
   * The effective configuration on one line for the start-up log: every component, secrets masked
   * (the URLs' and passwords' own {@code toString} mask them, and the line is redacted again).
   */
  public String describe() {
    return Redact.text(toString());
  }

  /** Defaults are the production ones documented in the README. */
  public static final class Builder {
    private final DatabaseConfig database;
    private final RedisConfig redis;
    private String workerId = "worker-" + UUID.randomUUID().toString().substring(0, 8);
    private List<String> queues = List.of("default");
    private int concurrency = 32;
    private Duration lease = Duration.ofSeconds(30);
    private Duration retryBase = Duration.ofSeconds(1);
    private Duration retryMax = Duration.ofMinutes(5);
    private Duration drainGrace = Duration.ofSeconds(30);
    private int httpPort = 8081;
    private ConcurrencyLimits concurrencyLimits = ConcurrencyLimits.NONE;
    private int commitBacklog = DEFAULT_COMMIT_BACKLOG;

    private Builder(DatabaseConfig database, RedisConfig redis) {
      this.database = database;
      this.redis = redis;
    }

    public Builder workerId(String v) {
      workerId = v;
      return this;
    }

    public Builder queues(List<String> v) {
      queues = v;
      return this;
    }

    public Builder concurrency(int v) {
      concurrency = v;
      return this;
    }

    public Builder lease(Duration v) {
      lease = v;
      return this;
    }

    public Builder retryBase(Duration v) {
      retryBase = v;
      return this;
    }

    public Builder retryMax(Duration v) {
      retryMax = v;
      return this;
    }

    public Builder drainGrace(Duration v) {
      drainGrace = v;
      return this;
    }

    public Builder httpPort(int v) {
      httpPort = v;
      return this;
    }

    public Builder concurrencyLimits(ConcurrencyLimits v) {
      concurrencyLimits = v;
      return this;
    }

    public Builder commitBacklog(int v) {
      commitBacklog = v;
      return this;
    }

    /** The configuration; throws {@link ConfigException} naming the first invalid setting. */
    public WorkerConfig build() {
      return new WorkerConfig(
          database,
          redis,
          workerId,
          queues,
          concurrency,
          lease,
          retryBase,
          retryMax,
          drainGrace,
          httpPort,
          concurrencyLimits,
          commitBacklog);
    }
  }
}
