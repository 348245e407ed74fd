package io.sluice.coordinator;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.coordinator.redis.RedissonLeaderLock;
import io.sluice.health.Health;
import io.sluice.health.LoopSpec;
import io.sluice.health.LoopSupervisor;
import io.sluice.json.Json;
import io.sluice.loop.MonotonicClock;
import io.sluice.redis.PriorityBand;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresNodeRegistry;
import io.sluice.tracing.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running coordinator: HTTP API, dispatch, collection and the reconciler, wired together. */
public final class Coordinator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Coordinator.class);

  /** How often the leader looks for due schedules: a fire is at most this late, when on time. */
  static final Duration SCHEDULE_PERIOD = Duration.ofMillis(250);

  private final CoordinatorConfig config;
  private final Database db;
  private final CoordinatorRedis redis;
  private final Dispatcher dispatcher;
  private final GroupCommit groups;
  private final JobCollector collector;
  private final LoopSupervisor loops;
  private final Javalin http;
  private final RedissonLeaderLock leaderLock;
  private final LoopSupervisor.Loop leaderLoop;
  private final Tracing tracing;

  private Coordinator(CoordinatorConfig config) {
    this.config = config;
    log.info("Starting coordinator: {}", config.describe());
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    JobTypeRegistry types = JobTypeRegistry.load();
    this.tracing = Tracing.fromEnv(System.getenv(), "sluice-coordinator", metrics);
    JobTraces traces = new JobTraces(tracing);
    this.db = new Database(config.database(), "sluice-coordinator");
    prepareSchema(config, db);
    this.redis = new LettuceCoordination(config.redis());
    this.collector =
        new JobCollector(db, types, redis, config.collectingGrace(), config.collect(), metrics);
    AdmissionControl admission =
        new AdmissionControl(config.admission(), metrics, redisBacklogs(redis, collector));
    this.dispatcher =
        new Dispatcher(
            db, new PostgresJobStore(), redis, collector, config.admission().maxDispatchBacklog());
    // A stage a collection made ready is dispatched like a job; if the dispatch queue is full, it
    // stays QUEUED and the sweeper dispatches it after the dispatch grace.
    collector.dispatchStagesWith(stage -> dispatcher.dispatchAsync(stage, () -> {}));
    collector.traceWith(traces);
    this.groups = new GroupCommit(db, 2, config.admission().maxSubmitting(), metrics);
    JobSubmitter submitter =
        new JobSubmitter(
            db,
            new PostgresJobStore(),
            types,
            dispatcher,
            admission,
            groups,
            Math.max(1, config.database().poolSize() / 2),
            traces,
            config.keyMaxConcurrency());
    Clock clock = MonotonicClock.start();
    this.loops = new LoopSupervisor(clock, metrics);
    CollectSignalListener listener = new CollectSignalListener(redis, collector, config.nodeId());
    loops.start(
        LoopSpec.of("collect-listener", listener)
            .stallAfter(Duration.ofSeconds(5))
            .onStall(listener::release));
    this.leaderLock = new RedissonLeaderLock(config.redis());
    LeaderElection leader =
        new LeaderElection(
            config.nodeId(),
            config.leaderLease(),
            LeaderStore.postgres(db),
            lockOf(leaderLock),
            clock,
            metrics);
    // Not reported: readiness never depended on being or becoming the leader.
    this.leaderLoop = loops.start(LoopSpec.of("leader-election", leader).reported(false));
    QueueControls queues = new QueueControls(db, redis, config.queueRates(), metrics);
    Sweeper sweeper =
        new Sweeper(
            new Sweeper.SweeperParts(
                db, config, redis, dispatcher, collector, leader, queues, metrics));
    loops.start(
        LoopSpec.of(
                "sweeper",
                LoopSpec.periodic(
                    Duration.ZERO, config.sweepInterval(), guard("sweep", sweeper::sweepOnce)))
            .stallAfter(config.sweepInterval().multipliedBy(10).plusSeconds(30)));
    if (config.retention().enabled()) {
      RetentionConfig retention = config.retention();
      loops.start(
          LoopSpec.every(
              "retention",
              retention.interval(),
              retention.interval(),
              guard(
                  "retention",
                  new DeleteExpiredJobs(
                      retention, db, leader, redis, Clock.systemUTC(), metrics))));
    }
    loops.start(
        LoopSpec.every(
            "analyze",
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            guard("analyze", new AnalyzeStaleTables(db, leader, metrics))));
    loops.start(
        LoopSpec.every(
            "webhook-relay",
            Duration.ofSeconds(1),
            Duration.ofMillis(250),
            guard("webhook relay", new WebhookRelay(leader, config.webhooks(), metrics))));
    TimeLimitSweep timeLimits = new TimeLimitSweep(db, redis, leader, metrics);
    loops.start(
        LoopSpec.every(
            "time-limits",
            Duration.ZERO,
            config.sweepInterval(),
            guard("time limits", timeLimits::sweepOnce)));
    ScheduleFirer schedules =
        new ScheduleFirer(
            new ScheduleFirer.Parts(
                submitter,
                leader,
                submitter::dispatch,
                id -> JobControlApi.forgetRedisKeys(db, redis, id),
                metrics));
    loops.start(
        LoopSpec.every(
            "schedules", Duration.ZERO, SCHEDULE_PERIOD, guard("schedules", schedules::fireDue)));
    loops.start(
        LoopSpec.every(
            "heartbeat",
            Duration.ZERO,
            Duration.ofSeconds(2),
            guard("heartbeat", this::heartbeat)));
    loops.start(
        LoopSpec.every(
            "admission-sampler",
            Duration.ZERO,
            Duration.ofMillis(AdmissionControl.SAMPLE_MILLIS),
            admission));
    loops.start(
        LoopSpec.every(
            "queue-metrics",
            Duration.ofSeconds(1),
            Duration.ofSeconds(5),
            guard("queue metrics", new QueueMetrics(db, redis, metrics))));
    Health health = new Health(Clock.systemUTC());
    health.register("postgres", db::ping);
    health.register("redis", redis::ping);
    health.register("loops", loops::allAlive);
    startQueueSync(queues);
    try {
      // Before the API opens: a job accepted now must not be re-appended by a rebuild that only
      // notices a fresh Redis on the first sweep.
      sweeper.rebuildIfLost();
    } catch (RuntimeException e) {
      log.warn(
          "Checking Redis for lost data at start failed; the sweeper repeats it: {}", e.toString());
    }
    this.http = new HttpApi(config, db, submitter, health, metrics, redis, queues).start();
    log.info(
        "Coordinator {} ready on port {} with job types {}",
        config.nodeId(),
        http.port(),
        types.names());
  }

  /**
   * Applies the migrations, or with {@code SLUICE_MIGRATE=false} only checks that they were applied
   * (the role then needs no DDL rights); a schema that is not current stops the start.
   */
  private static void prepareSchema(CoordinatorConfig config, Database db) {
    try {
      if (config.migrate()) {
        db.migrate();
      } else {
        db.requireSchemaCurrent();
      }
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  /**
   * Copies the queues' paused states and rate limits to Redis now (every active queue's, so a rate
   * limit no longer configured is removed) and every {@link QueueControls#SYNC_EVERY_SECONDS} s.
   */
  private void startQueueSync(QueueControls queues) {
    try {
      queues.sync(true);
    } catch (RuntimeException e) {
      log.warn(
          "Copying queue states to Redis at start failed; the sync repeats it: {}", e.toString());
    }
    loops.start(
        LoopSpec.every(
            "queue-control-sync",
            Duration.ofSeconds(QueueControls.SYNC_EVERY_SECONDS),
            Duration.ofSeconds(QueueControls.SYNC_EVERY_SECONDS),
            guard("queue control sync", () -> queues.sync(false))));
  }

  private static AdmissionControl.Backlogs redisBacklogs(
      CoordinatorRedis redis, JobCollector collector) {
    return new AdmissionControl.Backlogs() {
      @Override
      public long collectBacklog() {
        // Signals not yet read, and those read into this coordinator's collector pool.
        return redis.collectBacklog() + collector.waiting();
      }

      @Override
      public long queuedTasks(String queue) {
        return redis.queueDepths(PriorityBand.streams(queue)).values().stream()
            .mapToLong(d -> Math.max(0, d.length() - d.pending()))
            .sum();
      }
    };
  }

  public static Coordinator start(CoordinatorConfig config) {
    return new Coordinator(config);
  }

  /** The port the API listens on (useful when configured as 0). */
  public int port() {
    return http.port();
  }

  /**
   * Every HTTP route this coordinator serves, as {@code "METHOD /path/{param}"}: what the API
   * contract test holds against the OpenAPI document.
   */
  public List<String> routes() {
    return http.unsafeConfig().pvt.internalRouter.allHttpHandlers().stream()
        .map(e -> e.getEndpoint().getMethod().name() + " " + e.getEndpoint().getPath())
        .sorted()
        .toList();
  }

  private void heartbeat() {
    String info =
        Json.write(Json.object().put("port", http == null ? config.httpPort() : http.port()));
    db.inTransaction(
        c -> {
          PostgresNodeRegistry nodes = new PostgresNodeRegistry();
          nodes.heartbeat(c, config.nodeId(), "coordinator", "UP", info);
          nodes.heartbeatListeners(c, config.nodeId(), loops.loops());
          return null;
        });
  }

  private static LeaderLock lockOf(RedissonLeaderLock lock) {
    return new LeaderLock() {
      @Override
      public Long tryAcquire(Duration lease) {
        return lock.tryAcquire(lease);
      }

      @Override
      public void release() {
        lock.release();
      }
    };
  }

  private static Runnable guard(String what, Runnable step) {
    return () -> {
      try {
        step.run();
      } catch (RuntimeException e) {
        log.warn("Coordinator {} step failed; it runs again shortly: {}", what, e.toString());
      }
    };
  }

  @Override
  public void close() {
    log.info("Stopping coordinator {}", config.nodeId());
    http.stop();
    // The leader loop resigns on its own thread as it ends, so another coordinator takes over at
    // once.
    try {
      leaderLoop.stop().join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loops.close();
    leaderLock.close();
    groups.close();
    dispatcher.close();
    collector.close();
    redis.close();
    db.close();
    tracing.close();
  }
}
