package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.Env;
import io.sluice.config.RedisConfig;
import java.time.Duration;
import java.util.UUID;

/**
 * Everything a coordinator needs, validated at construction.
 *
 * @param sweepInterval how often the reconciler looks for stalled jobs, due retries and expired
 *     leases
 * @param dispatchGrace how long a job may stay QUEUED before its dispatch is repeated
 * @param collectGrace how long a job whose tasks are all finished may wait for its collect signal
 * @param collectingGrace how long a collection may run before another coordinator takes it over
 * @param leaderLease how long a leader stays leader without renewing; failover takes about this long
 * @param reapIdle how long a stream entry may stay read but unacknowledged before it is re-appended
 * @param dashboardAuth whether the dashboard's read-only views need a token ({@code
 *     SLUICE_DASHBOARD_AUTH})
 * @param limits per-token rate limit and quota of active jobs ({@link ApiLimits#fromEnv})
 */
public record CoordinatorConfig(
    DatabaseConfig database,
    RedisConfig redis,
    ApiTokens tokens,
    int httpPort,
    long maxBodyBytes,
    String nodeId,
    Duration sweepInterval,
    Duration dispatchGrace,
    Duration collectGrace,
    Duration collectingGrace,
    Duration leaderLease,
    Duration reapIdle,
    DashboardAuth dashboardAuth,
    ApiLimits limits) {

  public CoordinatorConfig {
    limits = limits == null ? ApiLimits.DEFAULT : limits;
    if (httpPort < 0 || httpPort > 65535) {
      throw new ConfigException("SLUICE_HTTP_PORT", String.valueOf(httpPort), "must be 0-65535");
    }
    if (maxBodyBytes < 1024) {
      throw new ConfigException(
          "SLUICE_MAX_BODY_BYTES", String.valueOf(maxBodyBytes), "must be at least 1024");
    }
  }

  /** A configuration whose dashboard views are open, like {@code /metrics}. */
  public CoordinatorConfig(
      DatabaseConfig database,
      RedisConfig redis,
      ApiTokens tokens,
      int httpPort,
      long maxBodyBytes,
      String nodeId,
      Duration sweepInterval,
      Duration dispatchGrace,
      Duration collectGrace,
      Duration collectingGrace,
      Duration leaderLease,
      Duration reapIdle) {
    this(
        database,
        redis,
        tokens,
        httpPort,
        maxBodyBytes,
        nodeId,
        sweepInterval,
        dispatchGrace,
        collectGrace,
        collectingGrace,
        leaderLease,
        reapIdle,
        DashboardAuth.NONE);
  }

  /** A configuration with the default API limits ({@link ApiLimits#DEFAULT}). */
  public CoordinatorConfig(
      DatabaseConfig database,
      RedisConfig redis,
      ApiTokens tokens,
      int httpPort,
      long maxBodyBytes,
      String nodeId,
      Duration sweepInterval,
      Duration dispatchGrace,
      Duration collectGrace,
      Duration collectingGrace,
      Duration leaderLease,
      Duration reapIdle,
      DashboardAuth dashboardAuth) {
    this(
        database,
        redis,
        tokens,
        httpPort,
        maxBodyBytes,
        nodeId,
        sweepInterval,
        dispatchGrace,
        collectGrace,
        collectingGrace,
        leaderLease,
        reapIdle,
        dashboardAuth,
        ApiLimits.DEFAULT);
  }

  /** This configuration with other API limits. */
  public CoordinatorConfig withLimits(ApiLimits limits) {
    return new CoordinatorConfig(
        database,
        redis,
        tokens,
        httpPort,
        maxBodyBytes,
        nodeId,
        sweepInterval,
        dispatchGrace,
        collectGrace,
        collectingGrace,
        leaderLease,
        reapIdle,
        dashboardAuth,
        limits);
  }

  /** This configuration with other API tokens. */
  public CoordinatorConfig withTokens(ApiTokens tokens) {
    return new CoordinatorConfig(
        database,
        redis,
        tokens,
        httpPort,
        maxBodyBytes,
        nodeId,
        sweepInterval,
        dispatchGrace,
        collectGrace,
        collectingGrace,
        leaderLease,
        reapIdle,
        dashboardAuth,
        limits);
  }

  public static CoordinatorConfig fromEnv(Env env) {
    return new CoordinatorConfig(
        DatabaseConfig.fromEnv(env, 16),
        RedisConfig.fromEnv(env),
        ApiTokens.parse(
            env.require("SLUICE_API_TOKENS", "the API tokens, e.g. team-a:s3cret-token")),
        env.intValue("SLUICE_HTTP_PORT", 8080, 0, 65535),
        env.longValue("SLUICE_MAX_BODY_BYTES", 8L * 1024 * 1024, 1024, 1L << 30),
        env.get("SLUICE_NODE_ID", "coordinator-" + UUID.randomUUID().toString().substring(0, 8)),
        env.duration("SLUICE_SWEEP_INTERVAL", Duration.ofSeconds(1)),
        env.duration("SLUICE_DISPATCH_GRACE", Duration.ofSeconds(30)),
        env.duration("SLUICE_COLLECT_GRACE", Duration.ofSeconds(2)),
        env.duration("SLUICE_COLLECTING_GRACE", Duration.ofSeconds(60)),
        env.duration("SLUICE_LEADER_LEASE", Duration.ofSeconds(5)),
        env.duration("SLUICE_REAP_IDLE", Duration.ofSeconds(60)),
        DashboardAuth.parse(env.get("SLUICE_DASHBOARD_AUTH", "none")),
        ApiLimits.fromEnv(env));
  }
}
