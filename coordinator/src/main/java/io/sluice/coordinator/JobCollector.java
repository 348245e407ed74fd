package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.JobType;
import io.sluice.api.Splitter;
import io.sluice.json.Json;
import io.sluice.queue.QueueProtocol;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresCollectAttempts;
import io.sluice.store.PostgresCollectAttempts.Gate;
import io.sluice.store.PostgresCollectInput;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresPipelines;
import io.sluice.store.PostgresPipelines.Advanced;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Collects a job whose tasks are all finished. The gate is one compare-and-set, RUNNING →
 * COLLECTING, that also checks PostgreSQL's counts: a duplicate or early trigger changes nothing.
 * The result and SUCCEEDED are committed together, fenced by the version the gate returned, so even
 * a collection repeated after a crash commits its result once.
 *
 * <p>Collections run on this class's own bounded pool ({@link #submit}), never on the thread of the
 * listener or sweeper that asked for them, so a long collection does not stall their heartbeat.
 * Each run of a collector has its own thread, limited by {@link CollectLimits#timeout()}; anything
 * it throws, {@link Error}s included, is caught there and counts as a failed attempt. While it
 * runs, the collection heartbeats its row, so no other coordinator takes it over; a collection
 * whose coordinator died stops heartbeating and is taken over after the collecting grace. Every
 * start is counted in PostgreSQL, and after {@link CollectLimits#attempts()} of them the job fails
 * with the last error.
 */
final class JobCollector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobCollector.class);
  private static final int QUEUE = 1024;

  private final Database db;
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresPipelines pipelines = new PostgresPipelines();
  // Until the dispatcher is wired, a split stage is left QUEUED for the sweeper's dispatch.
  private volatile StageDispatch stages = stage -> {};
  private final PostgresCollectInput input = new PostgresCollectInput();
  private final PostgresCollectAttempts attempts = new PostgresCollectAttempts();
  private final JobTypeRegistry types;
  private final QueueProtocol redis;
  private final Duration collectingGrace;
  private final CollectLimits limits;
  private final Counter collected;
  private final Counter duplicateTriggers;
  private final Counter failedAttempts;
  private final Set<UUID> queued = ConcurrentHashMap.newKeySet();
  private final ThreadPoolExecutor pool;

  JobCollector(
      Database db,
      JobTypeRegistry types,
      QueueProtocol redis,
      Duration collectingGrace,
      MeterRegistry metrics) {
    this(db, types, redis, collectingGrace, CollectLimits.DEFAULT, metrics);
  }

  JobCollector(
      Database db,
      JobTypeRegistry types,
      QueueProtocol redis,
      Duration collectingGrace,
      CollectLimits limits,
      MeterRegistry metrics) {
    this.db = db;
    this.types = types;
    this.redis = redis;
    this.collectingGrace = collectingGrace;
    this.limits = limits;
    this.collected = metrics.counter("sluice_jobs_collected_total");
    this.duplicateTriggers = metrics.counter("sluice_collect_triggers_ignored_total");
    this.failedAttempts = metrics.counter("sluice_collect_attempts_failed_total");
    this.pool =
        new ThreadPoolExecutor(
            limits.threads(),
            limits.threads(),
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            Threads.named("collect"));
    metrics.gauge("sluice_collections_waiting", pool, p -> p.getQueue().size());
  }

  /** Collections the pool's queue can still take. */
  int room() {
    return pool.getQueue().remainingCapacity();
  }

  /** Collections queued or running on this coordinator. */
  int waiting() {
    return queued.size();
  }

  /**
   * Collects the job on the collector pool and returns at once; false when the pool's queue is full
   * (the sweeper asks again later). A job already waiting or running here is not queued twice.
   */
  boolean submit(UUID jobId) {
    if (!queued.add(jobId)) {
      return true;
    }
    try {
      pool.execute(
          () -> {
            try {
              collect(jobId);
            } catch (Throwable t) {
              log.warn("Collecting job {} failed; the sweeper retries it: {}", jobId, t.toString());
            } finally {
              queued.remove(jobId);
            }
          });
      return true;
    } catch (RejectedExecutionException e) {
      queued.remove(jobId);
      log.warn(
          "Collection of job {} not queued ({} waiting, {} running); the sweeper asks again",
          jobId,
          pool.getQueue().size(),
          pool.getActiveCount());
      return false;
    }
  }

  /**
   * Collects the job if it is ready and nobody else is collecting it, on the calling thread;
   * otherwise does nothing.
   */
  void collect(UUID jobId) {
    Optional<Gate> gate = db.inTransaction(c -> attempts.open(c, jobId, collectingGrace));
    if (gate.isEmpty()) {
      duplicateTriggers.increment();
      return;
    }
    MDC.put("jobId", jobId.toString());
    try {
      finish(jobId, gate.get());
    } finally {
      MDC.remove("jobId");
    }
  }

  private void finish(UUID jobId, Gate first) {
    Gate gate = first;
    while (true) {
      if (gate.attempt() > limits.attempts()) {
        String why =
            gate.lastError() != null
                ? gate.lastError()
                : "it never finished (its coordinator stopped or was cut off)";
        commit(jobId, gate.version(), failure(limits.attempts(), why));
        return;
      }
      CollectRun.Outcome outcome =
          new CollectRun(db, attempts, limits.timeout(), heartbeatEvery())
              .run(jobId, gate.version(), () -> collectWith(jobId));
      switch (outcome) {
        case CollectRun.Done done -> {
          commit(jobId, gate.version(), success(done.result()));
          return;
        }
        case CollectRun.Lost lost -> {
          log.info("Collection of job {} stopped here: {}", jobId, lost.why());
          return;
        }
        case CollectRun.Failed failed -> {
          Optional<Gate> next = afterFailure(jobId, gate, failed.error());
          if (next.isEmpty()) {
            return;
          }
          gate = next.get();
        }
      }
    }
  }

  /**
   * Fails the job if that was its last attempt; otherwise records the error and counts the next
   * attempt, whose gate it returns (empty when the job was failed or the collection taken over).
   */
  private Optional<Gate> afterFailure(UUID jobId, Gate gate, String error) {
    failedAttempts.increment();
    boolean last = gate.attempt() >= limits.attempts();
    log.warn(
        "Collector of job {} failed (attempt {} of {}); {}: {}",
        jobId,
        gate.attempt(),
        limits.attempts(),
        last ? "the job fails" : "it runs again",
        error);
    if (last) {
      commit(jobId, gate.version(), failure(gate.attempt(), error));
      return Optional.empty();
    }
    Optional<Gate> next = db.inTransaction(c -> attempts.retry(c, jobId, gate.version(), error));
    if (next.isEmpty()) {
      log.info("Collection of job {} was taken over meanwhile; this run stops", jobId);
    }
    return next;
  }

  /** How often a running collection refreshes its row: well inside the collecting grace. */
  private Duration heartbeatEvery() {
    return Duration.ofMillis(Math.max(50, collectingGrace.toMillis() / 4));
  }

  private JsonNode collectWith(UUID jobId) throws Exception {
    return input.read(
        db,
        jobId,
        (stage, type, payload, outcomes) -> {
          JobType jobType =
              types
                  .find(type)
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "job type '" + type + "' is not on this coordinator's classpath"));
          return jobType.collector().collect(stage, payload, outcomes);
        });
  }

  /** How a collection ends: the status to commit, with its result or error. */
  private record End(JobStatus to, String error, String resultJson) {}

  private static End success(JsonNode result) {
    return new End(JobStatus.SUCCEEDED, null, Json.write(result));
  }

  private static End failure(int attemptsMade, String error) {
    return new End(
        JobStatus.FAILED,
        attemptsMade == 1
            ? "collector failed: " + error
            : "collector failed after " + attemptsMade + " attempts: " + error,
        null);
  }

  /**
   * Commits a collection's end; for a stage of a pipeline, the pipeline moves on in the same
   * transaction ({@link PostgresPipelines#advance}: the stages this one made ready are split, or
   * the pipeline fails or succeeds), and the stages split are dispatched after the commit.
   */
  private void commit(UUID jobId, long version, End end) {
    record Committed(boolean done, UUID pipeline, Advanced advanced) {}
    Committed committed =
        db.inTransaction(
            c -> {
              OptionalLong done =
                  end.to() == JobStatus.SUCCEEDED
                      ? transitions.collected(c, jobId, version, end.resultJson())
                      : transitions.collectFailed(c, jobId, version, end.error());
              if (done.isEmpty()) {
                return new Committed(false, null, null);
              }
              UUID pipeline = jobs.parentOf(c, jobId);
              return new Committed(
                  true,
                  pipeline,
                  pipeline == null ? null : pipelines.advance(c, pipeline, this::splitterOf));
            });
    if (committed.done()) {
      collected.increment();
      log.info("Job {} {}", jobId, end.to());
      redis.deleteJobKeys(jobId);
      if (committed.pipeline() != null) {
        afterAdvance(committed.pipeline(), committed.advanced());
      }
    } else {
      log.info(
          "Job {} was collected by another coordinator meanwhile; this result is discarded", jobId);
    }
  }

  /**
   * Moves a pipeline on if its stages say it should (the sweeper's repair of a pipeline left behind
   * by a crash between a stage's move and its own); repeating it changes nothing.
   */
  void advance(UUID pipelineId) {
    Advanced advanced = db.inTransaction(c -> pipelines.advance(c, pipelineId, this::splitterOf));
    afterAdvance(pipelineId, advanced);
  }

  private void afterAdvance(UUID pipelineId, Advanced advanced) {
    for (Job stage : advanced.split()) {
      stages.dispatch(stage);
    }
    if (advanced.ended()) {
      List<UUID> keys = new ArrayList<>();
      db.query(c -> jobs.stagesOf(c, pipelineId)).forEach(s -> keys.add(s.id()));
      redis.deleteJobKeys(keys);
    }
  }

  private Optional<Splitter> splitterOf(String type) {
    return types.find(type).map(JobType::splitter);
  }

  /** Hands the stages a collection split to the dispatcher; set once the dispatcher exists. */
  void dispatchStagesWith(StageDispatch dispatch) {
    this.stages = dispatch;
  }

  /** Dispatches a stage just split. */
  @FunctionalInterface
  interface StageDispatch {
    void dispatch(Job stage);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
