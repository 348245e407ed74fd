package io.sluice.worker;

import io.javalin.Javalin;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.config.ApiTokens;
import io.sluice.health.Health;
import io.sluice.health.LoopSpec;
import io.sluice.health.LoopSupervisor;
import io.sluice.json.Json;
import io.sluice.loop.MonotonicClock;
import io.sluice.queue.QueueProtocol;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresNodeRegistry;
import io.sluice.store.PostgresTaskRecovery;
import io.sluice.tracing.Tracing;
import io.sluice.worker.redis.JedisConcurrencySlots;
import io.sluice.worker.redis.JedisTaskQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running worker: fetch loops, handler threads, the completion writer and the lease renewer. */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);
  private static final Duration HEARTBEAT = Duration.ofSeconds(2);
  // The fetch loop's (blocking) read, the completion writer, hand-backs and health checks.
  private static final int REDIS_CONNECTIONS = 5;

  private final WorkerConfig config;
  private final Database db;
  private final QueueProtocol redis;
  private final InFlight inFlight;
  private final CompletionWriter writer;
  private final Clock clock = MonotonicClock.start();
  private final LoopSupervisor loops;
  private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService timeouts = TaskTimer.scheduler();
  private final List<LoopSupervisor.Loop> fetchLoops = new ArrayList<>();
  private final LoopSupervisor.Loop writerLoop;
  private final Javalin http;
  private final ConcurrencyGate gate;
  private final Tracing tracing;
  private final CompletableFuture<Void> drainedOnRequest = new CompletableFuture<>();
  private volatile boolean draining;

  private Worker(WorkerConfig config, ApiTokens adminTokens) {
    this.config = config;
    log.info("Starting worker: {}", config.describe());
    this.inFlight = new InFlight(config.concurrency() + config.commitBacklog());
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.tracing = Tracing.fromEnv(System.getenv(), "sluice-worker", metrics);
    this.db = new Database(config.database(), "sluice-worker");
    this.redis =
        new JedisTaskQueue(config.redis(), REDIS_CONNECTIONS, "sluice-worker-" + config.workerId());
    Semaphore slots = new Semaphore(config.concurrency());
    this.writer = new CompletionWriter(db, redis, inFlight, metrics);
    this.loops = new LoopSupervisor(clock, metrics);
    this.writerLoop =
        loops.start(
            LoopSpec.of("completion-writer", writer)
                .stallAfter(Duration.ofSeconds(30))
                .onStop(writer::stop));
    ProgressWriter progress = new ProgressWriter(db, inFlight, metrics);
    loops.start(
        LoopSpec.every(
            "progress-writer", ProgressWriter.TICK, ProgressWriter.TICK, progress::flush));
    // Always a gate over Redis, limits configured or not: a task of a job's concurrency key holds
    // the key's slot its read took, which the gate renews while the task runs.
    this.gate =
        new ConcurrencyGate(config, new JedisConcurrencySlots(config.redis(), 8), metrics, loops);
    TaskRunner runner =
        new TaskRunner(
            JobTypeRegistry.load()::find,
            new RetryPolicy(config.retryBase(), config.retryMax()),
            gate,
            TaskTimer.on(timeouts),
            tracing.tracer());
    WorkerContext ctx =
        new WorkerContext(config, db, redis, slots, inFlight, runner, writer, handlers, metrics);
    Gauge.builder(
            "sluice_worker_busy_ratio",
            () -> (double) (config.concurrency() - slots.availablePermits()) / config.concurrency())
        .register(metrics);
    Gauge.builder("sluice_worker_in_flight", inFlight, InFlight::size)
        .description("claims held, from claim until their completion is committed")
        .register(metrics);
    Gauge.builder("sluice_worker_in_flight_limit", inFlight, InFlight::capacity)
        .description("concurrency plus commit backlog: fetching stops at this many claims")
        .register(metrics);
    Gauge.builder("sluice_worker_commit_backlog", writer, CompletionWriter::backlog)
        .description("finished tasks waiting for the completion writer")
        .register(metrics);
    LeaseRenewer renewer =
        new LeaseRenewer(config, LeaseRenewer.postgres(db), inFlight, metrics, clock);
    loops.start(
        LoopSpec.of(
                "lease-renewer",
                LoopSpec.periodic(Duration.ZERO, renewer.period(), renewer::renewOnce))
            .stallAfter(config.lease()));
    Health health = new Health(Clock.systemUTC());
    health.register("postgres", db::ping);
    health.register("redis", redis::ping);
    health.register("loops", loops::allAlive);
    health.register("leases", renewer::healthy);
    health.register("completions", writer::healthy);
    this.http = WorkerHttp.start(config.httpPort(), health, metrics, this::drainAsync, adminTokens);
    // Heartbeat and fetch last: the node row names a port that answers, and work is taken only once
    // the worker can report on it and be drained.
    heartbeat();
    loops.start(LoopSpec.every("heartbeat", HEARTBEAT, HEARTBEAT, this::heartbeat));
    // One loop for all queues, sharing the free slots among those with work.
    FetchLoop fetcher = new FetchLoop(ctx, config.queues());
    fetchLoops.add(
        loops.start(
            LoopSpec.of("fetch", fetcher)
                .stallAfter(Duration.ofSeconds(15))
                .onStop(fetcher::stop)));
    log.info("Worker {} ready on port {}", config.workerId(), http.port());
  }

  /** A worker whose drain action is open (tests, private networks). */
  public static Worker start(WorkerConfig config) {
    return new Worker(config, null);
  }

  /** A worker whose {@code POST /admin/drain} needs one of {@code adminTokens}. */
  public static Worker start(WorkerConfig config, ApiTokens adminTokens) {
    return new Worker(config, adminTokens);
  }

  public int port() {
    return http.port();
  }

  private void heartbeat() {
    try {
      String info =
          Json.write(
              Json.object()
                  .put("port", http == null ? config.httpPort() : http.port())
                  .put("inFlight", inFlight.size()));
      db.inTransaction(
          c -> {
            PostgresNodeRegistry nodes = new PostgresNodeRegistry();
            nodes.heartbeat(c, config.workerId(), "worker", draining ? "DRAINING" : "UP", info);
            nodes.heartbeatListeners(c, config.workerId(), loops.loops());
            return null;
          });
    } catch (RuntimeException e) {
      log.warn("Heartbeat failed: {}", e.toString());
    }
  }

  /**
   * Completes once a drain asked for through {@code POST /admin/drain} has finished. The worker
   * itself never exits: its owner decides what a drained worker does ({@link WorkerMain} exits 0).
   */
  public CompletionStage<Void> drainedOnRequest() {
    return drainedOnRequest;
  }

  private void drainAsync() {
    Thread.ofPlatform()
        .name("sluice-drain")
        .start(
            () -> {
              try {
                drain();
              } finally {
                drainedOnRequest.complete(null);
              }
            });
  }

  /**
   * Stops fetching, lets running tasks finish within the grace period, writes their completions,
   * and tells the rest to stop (their leases lapse and they are reclaimed).
   */
  public synchronized void drain() {
    if (draining) {
      return;
    }
    draining = true;
    log.info(
        "Worker {} draining: {} task(s) in flight, grace {}",
        config.workerId(),
        inFlight.size(),
        config.drainGrace());
    fetchLoops.forEach(LoopSupervisor.Loop::stop);
    // A fetch blocked in Redis may still return entries: let it claim and start them, so they are
    // finished or handed back below instead of stranded as read-but-unclaimed entries.
    for (LoopSupervisor.Loop loop : fetchLoops) {
      try {
        loop.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long deadline = clock.millis() + config.drainGrace().toMillis();
    while (inFlight.size() > 0 && clock.millis() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    handBackUnfinished();
    writerLoop.stop();
    try {
      writerLoop.join(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info(
        "Worker {} drained; {} task(s) left to be reclaimed", config.workerId(), inFlight.size());
  }

  /**
   * Tells the handlers still running to stop and gives their tasks back at once: QUEUED in
   * PostgreSQL first (fenced by each claim's epoch), then appended to the queue, then the old
   * entries acknowledged. A late completion from a stopped handler finds the task no longer RUNNING
   * and is rejected.
   */
  private void handBackUnfinished() {
    List<RunningTask> left = List.copyOf(inFlight.all());
    if (left.isEmpty()) {
      return;
    }
    try {
      // PostgreSQL first: once the tasks are QUEUED again, whatever a stopping handler returns is
      // fenced out; cancelling first would let a handler that gives up early commit as a success.
      var released =
          new HashSet<>(
              db.inTransaction(
                  c ->
                      new PostgresTaskRecovery()
                          .handBack(
                              c, config.workerId(), left.stream().map(t -> t.claim).toList())));
      Map<String, Map<UUID, List<Integer>>> groups = new TreeMap<>();
      Map<String, List<String>> entries = new TreeMap<>();
      for (RunningTask t : left) {
        if (released.contains(t.claim.ref())) {
          groups
              .computeIfAbsent(t.queue, q -> new LinkedHashMap<>())
              .computeIfAbsent(t.jobId(), j -> new ArrayList<>())
              .add(t.seq());
          entries.computeIfAbsent(t.queue, q -> new ArrayList<>()).add(t.entryId);
          inFlight.remove(t);
        }
      }
      groups.forEach(
          (queue, byJob) -> byJob.forEach((jobId, seqs) -> redis.enqueue(queue, jobId, seqs)));
      redis.acknowledge(entries, Map.of());
      left.forEach(t -> t.stop("the worker is draining"));
      log.info("Worker {} handed back {} unfinished task(s)", config.workerId(), released.size());
    } catch (RuntimeException e) {
      log.warn(
          "Handing back {} task(s) failed; their leases will expire and they are reclaimed: {}",
          left.size(),
          e.toString());
    }
  }

  @Override
  public void close() {
    drain();
    http.stop();
    loops.close();
    handlers.shutdownNow();
    timeouts.shutdownNow();
    gate.close();
    redis.close();
    db.close();
    tracing.close();
  }
}
