package io.sluice.coordinator;

import io.sluice.config.ApiTokens;
import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.Env;
import io.sluice.config.QueueRates;
import io.sluice.config.Redact;
import io.sluice.config.RedisConfig;
import io.sluice.store.ConcurrencyKey;
import java.time.Duration;
import java.util.UUID;

/**
 * Everything a coordinator needs, validated at construction. Build one with {@link #builder} or
 * {@link #fromEnv}.
 *
 * @param sweepInterval how often the reconciler looks for stalled jobs, due retries and expired
 *     leases
 * @param dispatchGrace how long a job may stay QUEUED before its dispatch is repeated
 * @param collectGrace how long a job whose tasks are all finished may wait for its collect signal
 * @param collectingGrace how long a collection may run before another coordinator takes it over
 * @param leaderLease how long a leader stays leader without renewing; failover takes about this
 *     long
 * @param reapIdle how long a stream entry may stay read but unacknowledged before it is re-appended
 * @param nodeDeadAfter how long a node may miss heartbeats before it is marked DEAD
 * @param adminTokens tokens that read (and requeue the tasks of) every tenant's jobs, for operators
 *     and the dashboard ({@code SLUICE_ADMIN_TOKENS}, {@code tenant:token} pairs like {@code
 *     SLUICE_API_TOKENS}; a bare token's tenant is {@code admin}); none by default
 * @param limits per-token rate limit and quota of active jobs ({@link ApiLimits#fromEnv})
 * @param admission the backlog bounds past which submissions are shed with 503 ({@link
 *     AdmissionLimits#fromEnv})
 * @param migrate whether the coordinator applies the Flyway migrations at start ({@code
 *     SLUICE_MIGRATE}, default true); when false it only checks that the schema is current, so its
 *     database role needs no DDL rights and {@link MigrateMain} runs the migrations
 * @param collect collector timeout, attempts and threads ({@link CollectLimits#fromEnv})
 * @param webhooks callback signing secrets, allowed targets and delivery timings ({@link
 *     WebhookConfig#fromEnv})
 * @param retention how long finished jobs are kept and how they are deleted ({@link
 *     RetentionConfig#fromEnv})
 * @param queueRates task starts per second or minute per queue across all workers ({@code
 *     SLUICE_QUEUE_RATE}, {@link QueueRates#parse}); every coordinator should carry the same
 * @param keyMaxConcurrency the limit of a job's {@code concurrencyKey} when the job gives none
 *     ({@code SLUICE_KEY_MAX_CONCURRENCY}, default 1), stored with the job at submission
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
    Duration nodeDeadAfter,
    ApiTokens adminTokens,
    ApiLimits limits,
    AdmissionLimits admission,
    boolean migrate,
    CollectLimits collect,
    WebhookConfig webhooks,
    RetentionConfig retention,
    QueueRates queueRates,
    int keyMaxConcurrency) {

  public CoordinatorConfig {
    limits = limits == null ? ApiLimits.DEFAULT : limits;
    collect = collect == null ? CollectLimits.DEFAULT : collect;
    webhooks = webhooks == null ? WebhookConfig.NONE : webhooks;
    retention = retention == null ? RetentionConfig.DEFAULT : retention;
    adminTokens = adminTokens == null ? ApiTokens.NONE : adminTokens;
    queueRates = queueRates == null ? QueueRates.NONE : queueRates;
    if (database == null || redis == null || tokens == null) {
      throw new ConfigException("coordinator", null, "needs a database, a Redis and API tokens");
    }
    // Each shard of a rate-limited queue gets its share of the rate; a share of 0 would be none.
    for (var limit : queueRates.perQueue().entrySet()) {
      int n = redis.shards().of(limit.getKey());
      if (limit.getValue().count() < n) {
        throw new ConfigException(
            "SLUICE_QUEUE_SHARDS",
            limit.getKey() + "=" + n,
            "queue "
                + limit.getKey()
                + "'s rate "
                + limit.getValue().spec()
                + " is less than one start per period per shard; give it at most "
                + limit.getValue().count()
                + " shards");
      }
    }
    admission = admission == null ? AdmissionLimits.DEFAULT : admission;
    if (httpPort < 0 || httpPort > 65535) {
      throw new ConfigException("SLUICE_HTTP_PORT", String.valueOf(httpPort), "must be 0-65535");
    }
    if (maxBodyBytes < 1024) {
      throw new ConfigException(
          "SLUICE_MAX_BODY_BYTES", String.valueOf(maxBodyBytes), "must be at least 1024");
    }
    if (nodeId == null || nodeId.isBlank()) {
      throw new ConfigException("SLUICE_NODE_ID", nodeId, "must not be empty");
    }
    requirePositive("SLUICE_SWEEP_INTERVAL", sweepInterval);
    requirePositive("SLUICE_DISPATCH_GRACE", dispatchGrace);
    requirePositive("SLUICE_COLLECT_GRACE", collectGrace);
    requirePositive("SLUICE_COLLECTING_GRACE", collectingGrace);
    requirePositive("SLUICE_LEADER_LEASE", leaderLease);
    requirePositive("SLUICE_REAP_IDLE", reapIdle);
    requirePositive("SLUICE_NODE_DEAD_AFTER", nodeDeadAfter);
  }

  private static void requirePositive(String setting, Duration d) {
    if (d == null || !d.isPositive()) {
      throw new ConfigException(
          setting, d == null ? "(unset)" : d.toString(), "must be a positive duration");
    }
  }

  public static Builder builder(DatabaseConfig database, RedisConfig redis, ApiTokens tokens) {
    return new Builder(database, redis, tokens);
  }

  /** Reads the {@code SLUICE_*} variables the README lists; unset ones take the defaults. */
  public static CoordinatorConfig fromEnv(Env env) {
    DatabaseConfig database = DatabaseConfig.fromEnv(env, 16);
    Builder b =
        builder(
            database,
            RedisConfig.fromEnv(env),
            ApiTokens.parse(
                env.require("SLUICE_API_TOKENS", "the API tokens, e.g. team-a:s3cret-token")));
    return b.httpPort(env.intValue("SLUICE_HTTP_PORT", b.httpPort, 0, 65535))
        .maxBodyBytes(env.longValue("SLUICE_MAX_BODY_BYTES", b.maxBodyBytes, 1024, 1L << 30))
        .nodeId(env.get("SLUICE_NODE_ID", b.nodeId))
        .sweepInterval(env.duration("SLUICE_SWEEP_INTERVAL", b.sweepInterval))
        .dispatchGrace(env.duration("SLUICE_DISPATCH_GRACE", b.dispatchGrace))
        .collectGrace(env.duration("SLUICE_COLLECT_GRACE", b.collectGrace))
        .collectingGrace(env.duration("SLUICE_COLLECTING_GRACE", b.collectingGrace))
        .leaderLease(env.duration("SLUICE_LEADER_LEASE", b.leaderLease))
        .reapIdle(env.duration("SLUICE_REAP_IDLE", b.reapIdle))
        .nodeDeadAfter(env.duration("SLUICE_NODE_DEAD_AFTER", b.nodeDeadAfter))
        .adminTokens(adminTokens(env.get("SLUICE_ADMIN_TOKENS", "")))
        .limits(ApiLimits.fromEnv(env))
        .admission(AdmissionLimits.fromEnv(env))
        .migrate(env.bool("SLUICE_MIGRATE", b.migrate))
        .collect(CollectLimits.fromEnv(env))
        .webhooks(WebhookConfig.fromEnv(env))
        .retention(RetentionConfig.fromEnv(env))
        .queueRates(QueueRates.fromEnv(env))
        .keyMaxConcurrency(
            env.intValue(
                "SLUICE_KEY_MAX_CONCURRENCY", b.keyMaxConcurrency, 1, ConcurrencyKey.MAX_LIMIT))
        .build();
  }

  /**
   * The effective configuration on one line for the start-up log: every component, secrets masked
   * (the URLs' and passwords' own {@code toString} mask them, and the line is redacted again).
   */
  public String describe() {
    return Redact.text(toString());
  }

  private static ApiTokens adminTokens(String spec) {
    if (spec.isBlank()) {
      return ApiTokens.NONE;
    }
    return ApiTokens.parse("SLUICE_ADMIN_TOKENS", spec, "admin");
  }

  /** This configuration with other API limits. */
  public CoordinatorConfig withLimits(ApiLimits limits) {
    return toBuilder().limits(limits).build();
  }

  /** This configuration with other queue rate limits. */
  public CoordinatorConfig withQueueRates(QueueRates rates) {
    return toBuilder().queueRates(rates).build();
  }

  /** This configuration with other API tokens. */
  public CoordinatorConfig withTokens(ApiTokens tokens) {
    Builder b = toBuilder();
    b.tokens = tokens;
    return b.build();
  }

  /** This configuration with another retention of finished jobs. */
  public CoordinatorConfig withRetention(RetentionConfig retention) {
    return toBuilder().retention(retention).build();
  }

  /** This configuration, applying the migrations at start ({@code true}) or only checking them. */
  public CoordinatorConfig withMigrate(boolean migrate) {
    return toBuilder().migrate(migrate).build();
  }

  private Builder toBuilder() {
    return builder(database, redis, tokens)
        .httpPort(httpPort)
        .maxBodyBytes(maxBodyBytes)
        .nodeId(nodeId)
        .sweepInterval(sweepInterval)
        .dispatchGrace(dispatchGrace)
        .collectGrace(collectGrace)
        .collectingGrace(collectingGrace)
        .leaderLease(leaderLease)
        .reapIdle(reapIdle)
        .nodeDeadAfter(nodeDeadAfter)
        .adminTokens(adminTokens)
        .limits(limits)
        .admission(admission)
        .migrate(migrate)
        .collect(collect)
        .webhooks(webhooks)
        .retention(retention)
        .queueRates(queueRates)
        .keyMaxConcurrency(keyMaxConcurrency);
  }

  /** This configuration with other webhook settings. */
  public CoordinatorConfig withWebhooks(WebhookConfig webhooks) {
    return toBuilder().webhooks(webhooks).build();
  }

  /** Defaults are the production ones documented in the README. */
  public static final class Builder {
    private final DatabaseConfig database;
    private final RedisConfig redis;
    private ApiTokens tokens;
    private int httpPort = 8080;
    private long maxBodyBytes = 8L * 1024 * 1024;
    private String nodeId = "coordinator-" + UUID.randomUUID().toString().substring(0, 8);
    private Duration sweepInterval = Duration.ofSeconds(1);
    private Duration dispatchGrace = Duration.ofSeconds(30);
    private Duration collectGrace = Duration.ofSeconds(2);
    private Duration collectingGrace = Duration.ofSeconds(60);
    private Duration leaderLease = Duration.ofSeconds(5);
    private Duration reapIdle = Duration.ofSeconds(60);
    private Duration nodeDeadAfter = Duration.ofSeconds(15);
    private ApiTokens adminTokens = ApiTokens.NONE;
    private ApiLimits limits = ApiLimits.DEFAULT;
    private AdmissionLimits admission;
    private boolean migrate = true;
    private CollectLimits collect = CollectLimits.DEFAULT;
    private WebhookConfig webhooks = WebhookConfig.NONE;
    private RetentionConfig retention = RetentionConfig.DEFAULT;
    private QueueRates queueRates = QueueRates.NONE;
    private int keyMaxConcurrency = 1;

    private Builder(DatabaseConfig database, RedisConfig redis, ApiTokens tokens) {
      this.database = database;
      this.redis = redis;
      this.tokens = tokens;
    }

    public Builder httpPort(int v) {
      httpPort = v;
      return this;
    }

    public Builder maxBodyBytes(long v) {
      maxBodyBytes = v;
      return this;
    }

    public Builder nodeId(String v) {
      nodeId = v;
      return this;
    }

    public Builder sweepInterval(Duration v) {
      sweepInterval = v;
      return this;
    }

    public Builder dispatchGrace(Duration v) {
      dispatchGrace = v;
      return this;
    }

    public Builder collectGrace(Duration v) {
      collectGrace = v;
      return this;
    }

    public Builder collectingGrace(Duration v) {
      collectingGrace = v;
      return this;
    }

    public Builder leaderLease(Duration v) {
      leaderLease = v;
      return this;
    }

    public Builder reapIdle(Duration v) {
      reapIdle = v;
      return this;
    }

    public Builder nodeDeadAfter(Duration v) {
      nodeDeadAfter = v;
      return this;
    }

    public Builder adminTokens(ApiTokens v) {
      adminTokens = v;
      return this;
    }

    public Builder limits(ApiLimits v) {
      limits = v;
      return this;
    }

    public Builder admission(AdmissionLimits v) {
      admission = v;
      return this;
    }

    public Builder migrate(boolean v) {
      migrate = v;
      return this;
    }

    public Builder collect(CollectLimits v) {
      collect = v;
      return this;
    }

    public Builder webhooks(WebhookConfig v) {
      webhooks = v;
      return this;
    }

    public Builder retention(RetentionConfig v) {
      retention = v;
      return this;
    }

    public Builder queueRates(QueueRates v) {
      queueRates = v;
      return this;
    }

    public Builder keyMaxConcurrency(int v) {
      keyMaxConcurrency = v;
      return this;
    }

    public CoordinatorConfig build() {
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
          nodeDeadAfter,
          adminTokens,
          limits,
          admission,
          migrate,
          collect,
          webhooks,
          retention,
          queueRates,
          keyMaxConcurrency);
    }
  }
}
