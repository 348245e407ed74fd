package io.sluice.worker;

import io.sluice.config.ConcurrencyLimits;
import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.Env;
import io.sluice.config.RedisConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Everything a worker needs, validated at construction.
 *
 * @param concurrency how many tasks run at once
 * @param lease how long a claim lasts without renewal; renewed every third of it
 * @param retryBase the first retry's delay; doubled per attempt, with jitter, up to retryMax
 * @param drainGrace how long a draining worker waits for running tasks before handing them back
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
    queues = List.copyOf(queues);
    concurrencyLimits = concurrencyLimits == null ? ConcurrencyLimits.NONE : concurrencyLimits;
    if (queues.isEmpty() || !queues.stream().allMatch(q -> q.matches("[A-Za-z0-9_.-]{1,64}"))) {
      throw new ConfigException(
          "SLUICE_WORKER_QUEUES", String.join(",", queues), "must list queue names");
    }
    if (concurrency < 1 || concurrency > 10_000) {
      throw new ConfigException(
          "SLUICE_WORKER_CONCURRENCY", String.valueOf(concurrency), "must be between 1 and 10000");
    }
    if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new ConfigException("SLUICE_LEASE_DURATION", lease.toString(), "must be at least 1s");
    }
    if (commitBacklog < 1 || commitBacklog > 100_000) {
      throw new ConfigException(
          "SLUICE_WORKER_COMMIT_BACKLOG",
          String.valueOf(commitBacklog),
          "must be between 1 and 100000");
    }
  }

  /** A configuration with the default commit backlog. */
  public WorkerConfig(
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
      ConcurrencyLimits concurrencyLimits) {
    this(
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
        DEFAULT_COMMIT_BACKLOG);
  }

  /** The same configuration with another commit backlog. */
  public WorkerConfig withCommitBacklog(int backlog) {
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
        backlog);
  }

  /** A configuration without concurrency limits. */
  public WorkerConfig(
      DatabaseConfig database,
      RedisConfig redis,
      String workerId,
      List<String> queues,
      int concurrency,
      Duration lease,
      Duration retryBase,
      Duration retryMax,
      Duration drainGrace,
      int httpPort) {
    this(
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
        ConcurrencyLimits.NONE);
  }

  public static WorkerConfig fromEnv(Env env) {
    return new WorkerConfig(
        DatabaseConfig.fromEnv(env, 6),
        RedisConfig.fromEnv(env),
        env.get("SLUICE_WORKER_ID", "worker-" + UUID.randomUUID().toString().substring(0, 8)),
        Arrays.stream(env.get("SLUICE_WORKER_QUEUES", "default").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .toList(),
        env.intValue("SLUICE_WORKER_CONCURRENCY", 32, 1, 10_000),
        env.duration("SLUICE_LEASE_DURATION", Duration.ofSeconds(30)),
        env.duration("SLUICE_RETRY_BASE", Duration.ofSeconds(1)),
        env.duration("SLUICE_RETRY_MAX", Duration.ofMinutes(5)),
        env.duration("SLUICE_DRAIN_GRACE", Duration.ofSeconds(30)),
        env.intValue("SLUICE_HTTP_PORT", 8081, 0, 65535),
        ConcurrencyLimits.fromEnv(env),
        env.intValue("SLUICE_WORKER_COMMIT_BACKLOG", DEFAULT_COMMIT_BACKLOG, 1, 100_000));
  }
}
