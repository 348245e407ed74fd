package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
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
import io.sluice.store.PostgresCollectAttempts.Opened;
import io.sluice.store.PostgresCollectAttempts.Retry;
import io.sluice.store.PostgresCollectInput;
import io.sluice.store.PostgresCollectInput.Input;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresJobTransitions.CollectionEnd;
import io.sluice.store.PostgresPipelines;
import io.sluice.store.PostgresPipelines.Advanced;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Collects jobs whose tasks are all finished, many at a time. The gate is one compare-and-set,
 * RUNNING → COLLECTING, that also checks PostgreSQL's counts: a duplicate or early trigger changes
 * nothing. The result and SUCCEEDED are committed together, fenced by the version the gate
 * returned, so even a collection repeated after a crash commits its result once.
 *
 * <p>Collections asked for ({@link #submit}) wait in a bounded queue and go through four loops,
 * each taking whatever is there when it comes round (group commit: while one batch commits, the
 * next accumulates; nothing waits for a batch to fill):
 *
 * <ol>
 *   <li>the gate: the gates of up to {@link #BATCH} jobs in one statement (taking over those whose
 *       collection went silent for the collecting grace), the whole input of the small one-stage
 *       ones read in the same transaction by one query;
 *   <li>the start: each gated collection's collector gets a thread of its own, at most {@link
 *       CollectLimits#threads()} at once ({@link CollectRun}); anything it throws, {@link Error}s
 *       included, is a failed attempt;
 *   <li>the watch: a collector that overruns {@link CollectLimits#timeout()} is interrupted and its
 *       attempt fails; every collection held here, running or waiting for a thread, is heartbeated
 *       by one statement for all, so no other coordinator takes it over; one whose gate was lost is
 *       interrupted and commits nothing;
 *   <li>the commit: one transaction for every collection that ended meanwhile: their ends, each row
 *       fenced by its own gate's version (one that misses is discarded alone), their status events,
 *       their failed attempts to repeat, and the pipeline of those that are stages moved on; then
 *       the Redis keys of all of them in one call.
 * </ol>
 *
 * A batch whose transaction fails is done again one job at a time, so one job cannot fail or stall
 * the others. Every start is counted in PostgreSQL, and after {@link CollectLimits#attempts()} of
 * them the job fails with the last error.
 */
final class JobCollector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JobCollector.class);
  private static final int QUEUE = 1024;

  /** The most collections gated, or committed, in one transaction. */
  static final int BATCH = 256;

  /** A one-stage job with at most this many tasks has its input read with its gate. */
  static final int SMALL = 64;

  // Collections held here at once, gated and not yet committed: bounds the loops' queues.
  private static final int HELD = 2 * BATCH;
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  private static final String NEVER_FINISHED =
      "it never finished (its coordinator stopped or was cut off)";

  private final Database db;
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresPipelines pipelines = new PostgresPipelines();
  // Until the dispatcher is wired, a split stage is left QUEUED for the sweeper's dispatch.
  private volatile StageDispatch stages = stage -> {};
  private volatile JobTraces traces = JobTraces.off();
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
  private final ArrayBlockingQueue<UUID> pending = new ArrayBlockingQueue<>(QUEUE);
  private final Semaphore holdRoom = new Semaphore(HELD);
  private final Map<UUID, Held> held = new ConcurrentHashMap<>();
  // Each run belongs to a collection held here, so these hold at most HELD each.
  private final LinkedBlockingQueue<CollectRun> toStart = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<CollectRun> ended = new LinkedBlockingQueue<>();
  private final Set<CollectRun> running = ConcurrentHashMap.newKeySet();
  private final Semaphore collectorPlaces;
  // Threads come back to it when their collector returns; one that overran is abandoned (its place
  // is freed at once), so a collector that ignores interrupts costs a thread but no capacity.
  private final ThreadPoolExecutor collectorThreads;
  private final List<Thread> loops = new ArrayList<>();
  private final AtomicLong transactionsRun = new AtomicLong();
  private volatile boolean closed;

  /** A collection held here: from its gate to its commit, across its attempts. */
  private record Held(UUID jobId, UUID parentId, Input input, CompletableFuture<Void> done) {}

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
    this.collectorPlaces = new Semaphore(limits.threads());
    this.collectorThreads =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            Threads.named("collector"));
    metrics.gauge("sluice_collections_waiting", pending, ArrayBlockingQueue::size);
    loops.add(loop("collect-gate", this::gateLoop));
    loops.add(loop("collect-start", this::startLoop));
    loops.add(loop("collect-watch", this::watchLoop));
    loops.add(loop("collect-commit", this::commitLoop));
  }

  private static Thread loop(String name, Runnable body) {
    return Thread.ofPlatform().daemon().name("sluice-" + name).start(body);
  }

  /** Collections the queue can still take. */
  int room() {
    return pending.remainingCapacity();
  }

  /** Collections queued or running on this coordinator. */
  int waiting() {
    return queued.size();
  }

  /** Transactions (and single statements) the collection loops ran; for tests. */
  long transactions() {
    return transactionsRun.get();
  }

  /**
   * Queues the job's collection and returns at once; false when the queue is full (the sweeper asks
   * again later). A job already waiting or running here is not queued twice.
   */
  boolean submit(UUID jobId) {
    if (!queued.add(jobId)) {
      return true;
    }
    if (closed || !pending.offer(jobId)) {
      queued.remove(jobId);
      log.warn(
          "Collection of job {} not queued ({} waiting, {} held); the sweeper asks again",
          jobId,
          pending.size(),
          held.size());
      return false;
    }
    return true;
  }

  /**
   * Collects the job if it is ready and nobody else is collecting it, waiting until it is done;
   * otherwise does nothing.
   */
  void collect(UUID jobId) {
    collectAll(List.of(jobId));
  }

  /**
   * Collects those of the jobs that are ready and that nobody else is collecting, gated together on
   * the calling thread, and waits until each of them is done; a job already being collected here
   * counts as a duplicate trigger.
   */
  void collectAll(List<UUID> jobIds) {
    List<UUID> mine = new ArrayList<>();
    for (UUID id : jobIds) {
      if (queued.add(id)) {
        mine.add(id);
      } else {
        duplicateTriggers.increment();
      }
    }
    for (int from = 0; from < mine.size(); from += BATCH) {
      List<UUID> chunk = mine.subList(from, Math.min(mine.size(), from + BATCH));
      holdRoom.acquireUninterruptibly(chunk.size());
      List<Held> holds = open(chunk);
      CompletableFuture.allOf(holds.stream().map(Held::done).toArray(CompletableFuture[]::new))
          .join();
    }
  }

  // --- the gate ---

  private void gateLoop() {
    List<UUID> batch = new ArrayList<>(BATCH);
    while (!closed) {
      try {
        UUID first = pending.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        holdRoom.acquire();
        batch.add(first);
        int more = Math.min(BATCH - 1, holdRoom.availablePermits());
        if (more > 0 && pending.drainTo(batch, more) > 0) {
          holdRoom.acquire(batch.size() - 1);
        }
        open(batch);
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        log.warn("Gating {} collections failed; the sweeper retries them: {}", batch.size(), t);
      } finally {
        batch.clear();
      }
    }
  }

  /**
   * Opens the gates of jobs queued here, one room in {@link #holdRoom} taken for each; starts the
   * collections gated and lets the others go. Returns the collections now held.
   */
  private List<Held> open(List<UUID> ids) {
    record Gated(List<Opened> opened, Map<UUID, Input> inputs) {}
    Gated gated;
    Set<UUID> failed = new HashSet<>();
    try {
      gated =
          tx(
              c -> {
                List<Opened> opened = attempts.openAll(c, ids, collectingGrace);
                List<UUID> small =
                    opened.stream()
                        .filter(o -> o.parentId() == null && o.taskCount() <= SMALL)
                        .map(Opened::jobId)
                        .toList();
                return new Gated(opened, small.isEmpty() ? Map.of() : input.readSmall(c, small));
              });
    } catch (RuntimeException e) {
      log.warn("Gating {} collections together failed ({}); one by one", ids.size(), e.toString());
      List<Opened> opened = new ArrayList<>();
      for (UUID id : ids) {
        try {
          tx(c -> openOne(c, id)).ifPresent(opened::add);
        } catch (RuntimeException one) {
          failed.add(id);
          log.warn("Gating job {} failed; the sweeper retries it: {}", id, one.toString());
        }
      }
      gated = new Gated(opened, Map.of());
    }
    Set<UUID> opened = new HashSet<>();
    List<Held> holds = new ArrayList<>();
    for (Opened o : gated.opened()) {
      Held h =
          new Held(
              o.jobId(), o.parentId(), gated.inputs().get(o.jobId()), new CompletableFuture<>());
      opened.add(o.jobId());
      held.put(o.jobId(), h);
      holds.add(h);
      start(h, o.gate());
    }
    for (UUID id : ids) {
      if (!opened.contains(id)) {
        if (!failed.contains(id)) {
          duplicateTriggers.increment();
        }
        release(id);
      }
    }
    return holds;
  }

  private Optional<Opened> openOne(Connection c, UUID id) throws SQLException {
    Optional<Gate> gate = attempts.open(c, id, collectingGrace);
    return gate.isEmpty()
        ? Optional.empty()
        : Optional.of(new Opened(id, gate.get(), jobs.parentOf(c, id), Integer.MAX_VALUE));
  }

  /** Starts an attempt of a held collection under {@code gate}. */
  private void start(Held h, Gate gate) {
    CollectRun run =
        new CollectRun(h.jobId(), gate, () -> body(h, gate), limits.timeout(), this::onEnd);
    if (gate.attempt() > limits.attempts()) {
      run.endWith(
          new CollectRun.Exhausted(gate.lastError() != null ? gate.lastError() : NEVER_FINISHED));
      return;
    }
    running.add(run);
    toStart.add(run);
  }

  /** One attempt of the job's collector, in a {@code sluice.collect} span of the job's trace. */
  private JsonNode body(Held h, Gate gate) throws Exception {
    MDC.put("jobId", h.jobId().toString());
    Span span = traces.startCollect(db, h.jobId(), gate.attempt());
    try (Scope scope = span.makeCurrent()) {
      PostgresCollectInput.Collection<JsonNode> collection =
          (stage, type, payload, outcomes) ->
              types
                  .find(type)
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "job type '" + type + "' is not on this coordinator's classpath"))
                  .collector()
                  .collect(stage, payload, outcomes);
      return h.input() != null
          ? h.input().collect(collection)
          : input.read(db, h.jobId(), collection);
    } catch (Exception | Error e) {
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      throw e;
    } finally {
      span.end();
      MDC.remove("jobId");
    }
  }

  // --- the start and the watch ---

  private void startLoop() {
    while (!closed) {
      try {
        CollectRun run = toStart.poll(100, TimeUnit.MILLISECONDS);
        if (run == null) {
          continue;
        }
        collectorPlaces.acquire();
        if (!run.begin()) {
          collectorPlaces.release();
          continue;
        }
        try {
          collectorThreads.execute(run);
        } catch (RejectedExecutionException e) {
          run.lose("this coordinator is stopping");
        }
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        log.warn("Starting a collector failed: {}", t.toString());
      }
    }
  }

  /** Called once per run, by whichever thread ended it. */
  private void onEnd(CollectRun run) {
    running.remove(run);
    if (run.startedBeforeEnd()) {
      collectorPlaces.release();
    }
    if (run.outcome() instanceof CollectRun.Lost lost) {
      log.info("Collection of job {} stopped here: {}", run.jobId(), lost.why());
      Held h = held.get(run.jobId());
      if (h != null) {
        finish(h);
      }
      return;
    }
    ended.add(run);
  }

  private void watchLoop() {
    long beatEvery = heartbeatEvery().toNanos();
    long nextBeat = System.nanoTime() + beatEvery;
    while (!closed) {
      try {
        long now = System.nanoTime();
        for (CollectRun run : running) {
          if (run.overran(now)) {
            run.timeOut();
          }
        }
        if (now - nextBeat >= 0) {
          heartbeat();
          nextBeat = System.nanoTime() + beatEvery;
        }
        LockSupport.parkNanos(Math.max(1, Math.min(TICK_NANOS, nextBeat - System.nanoTime())));
        if (Thread.interrupted()) {
          return;
        }
      } catch (Throwable t) {
        log.warn("Watching the collectors failed: {}", t.toString());
      }
    }
  }

  /** One statement refreshes every collection held here; those whose gate was lost stop. */
  private void heartbeat() {
    List<CollectRun> beating = new ArrayList<>(running);
    if (beating.isEmpty()) {
      return;
    }
    Map<UUID, Long> versions = new HashMap<>();
    beating.forEach(r -> versions.put(r.jobId(), r.gate().version()));
    Set<UUID> alive;
    try {
      alive = tx(c -> attempts.heartbeatAll(c, versions));
    } catch (RuntimeException e) {
      // PostgreSQL unreachable: the collectors go on; their commits are fenced by the version.
      log.debug("Heartbeat of {} collections failed: {}", versions.size(), e.toString());
      return;
    }
    for (CollectRun run : beating) {
      if (!alive.contains(run.jobId())) {
        run.lose("another coordinator took the collection over");
      }
    }
  }

  /** How often a held collection refreshes its row: well inside the collecting grace. */
  private Duration heartbeatEvery() {
    return Duration.ofMillis(Math.max(50, collectingGrace.toMillis() / 4));
  }

  // --- the commit ---

  private void commitLoop() {
    List<CollectRun> batch = new ArrayList<>(BATCH);
    while (!closed) {
      try {
        CollectRun first = ended.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        ended.drainTo(batch, BATCH - 1);
        commit(batch);
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        log.warn("Committing {} collections failed; the sweeper retries them: {}", batch.size(), t);
        batch.forEach(r -> Optional.ofNullable(held.get(r.jobId())).ifPresent(this::finish));
      } finally {
        batch.clear();
      }
    }
  }

  /** What a commit did: the next gate of each attempt to repeat, the ends committed, advances. */
  private record Committed(
      Map<UUID, Gate> retried, Set<UUID> ended, Map<UUID, Advanced> advanced) {}

  /** Commits every run of {@code runs} (each ended, none lost) in one transaction. */
  private void commit(List<CollectRun> runs) {
    List<CollectionEnd> ends = new ArrayList<>();
    List<Retry> retries = new ArrayList<>();
    for (CollectRun run : runs) {
      UUID id = run.jobId();
      Gate gate = run.gate();
      switch (run.outcome()) {
        case CollectRun.Done done -> ends.add(success(id, gate, done.result()));
        case CollectRun.Exhausted x -> ends.add(failure(id, gate, limits.attempts(), x.why()));
        case CollectRun.Failed f -> {
          failedAttempts.increment();
          boolean last = gate.attempt() >= limits.attempts();
          log.warn(
              "Collector of job {} failed (attempt {} of {}); {}: {}",
              id,
              gate.attempt(),
              limits.attempts(),
              last ? "the job fails" : "it runs again",
              f.error());
          if (last) {
            ends.add(failure(id, gate, gate.attempt(), f.error()));
          } else {
            retries.add(new Retry(id, gate.version(), f.error()));
          }
        }
        case CollectRun.Lost lost -> throw new IllegalStateException("a lost run is not committed");
      }
    }
    Committed committed;
    try {
      committed = tx(c -> commitTogether(c, ends, retries));
    } catch (RuntimeException e) {
      log.warn(
          "Committing {} collections together failed ({}); one by one", runs.size(), e.toString());
      committed = commitOneByOne(ends, retries);
    }
    after(ends, retries, committed);
  }

  private Committed commitTogether(Connection c, List<CollectionEnd> ends, List<Retry> retries)
      throws SQLException {
    Map<UUID, Gate> next = retries.isEmpty() ? Map.of() : attempts.retryAll(c, retries);
    Map<UUID, Long> moved = ends.isEmpty() ? Map.of() : transitions.collectionsEnded(c, ends);
    // Each pipeline moves on once, after all its stages of the batch moved; pipelines in id order,
    // as their row locks are taken.
    Map<UUID, Advanced> advanced = new TreeMap<>();
    for (CollectionEnd end : ends) {
      UUID pipeline = parentOf(end.jobId());
      if (pipeline != null && moved.containsKey(end.jobId())) {
        advanced.put(pipeline, null);
      }
    }
    for (UUID pipeline : advanced.keySet()) {
      advanced.put(pipeline, pipelines.advance(c, pipeline, this::splitterOf));
    }
    return new Committed(next, moved.keySet(), advanced);
  }

  /** A batch whose transaction failed, again one job at a time: one job cannot sink the others. */
  private Committed commitOneByOne(List<CollectionEnd> ends, List<Retry> retries) {
    Map<UUID, Gate> next = new HashMap<>();
    for (Retry r : retries) {
      try {
        tx(c -> attempts.retry(c, r.jobId(), r.version(), r.error()))
            .ifPresent(g -> next.put(r.jobId(), g));
      } catch (RuntimeException e) {
        log.warn("Recording the failed collection of job {} failed: {}", r.jobId(), e.toString());
      }
    }
    Set<UUID> moved = new HashSet<>();
    Map<UUID, Advanced> advanced = new TreeMap<>();
    for (CollectionEnd end : ends) {
      UUID pipeline = parentOf(end.jobId());
      try {
        Advanced a =
            tx(
                c -> {
                  OptionalLong done =
                      end.to() == JobStatus.SUCCEEDED
                          ? transitions.collected(c, end.jobId(), end.version(), end.resultJson())
                          : transitions.collectFailed(c, end.jobId(), end.version(), end.error());
                  if (done.isEmpty()) {
                    return null;
                  }
                  return pipeline == null
                      ? new Advanced(List.of(), false)
                      : pipelines.advance(c, pipeline, this::splitterOf);
                });
        if (a != null) {
          moved.add(end.jobId());
          if (pipeline != null) {
            advanced.merge(
                pipeline, a, (x, y) -> new Advanced(concat(x, y), x.ended() || y.ended()));
          }
        }
      } catch (RuntimeException e) {
        log.warn(
            "Committing the collection of job {} failed; the sweeper retries it: {}",
            end.jobId(),
            e.toString());
      }
    }
    return new Committed(next, moved, advanced);
  }

  private static List<Job> concat(Advanced x, Advanced y) {
    List<Job> all = new ArrayList<>(x.split());
    all.addAll(y.split());
    return all;
  }

  /** After a commit: the keys of the finished jobs go in one call, the pipelines move on. */
  private void after(List<CollectionEnd> ends, List<Retry> retries, Committed committed) {
    List<UUID> keys = new ArrayList<>();
    for (CollectionEnd end : ends) {
      if (committed.ended().contains(end.jobId())) {
        collected.increment();
        // A stream of small jobs finishes thousands a second: successes are for debugging only.
        if (end.to() == JobStatus.SUCCEEDED) {
          log.debug("Job {} SUCCEEDED", end.jobId());
        } else {
          log.info("Job {} {}", end.jobId(), end.to());
        }
        keys.add(end.jobId());
      } else {
        log.info(
            "Job {} was collected by another coordinator meanwhile; this result is discarded",
            end.jobId());
      }
    }
    if (!keys.isEmpty()) {
      try {
        redis.deleteJobKeys(keys);
      } catch (RuntimeException e) {
        log.warn(
            "Deleting the Redis keys of {} collected jobs failed: {}", keys.size(), e.toString());
      }
    }
    committed
        .advanced()
        .forEach(
            (pipeline, advanced) -> {
              try {
                afterAdvance(pipeline, advanced);
              } catch (RuntimeException e) {
                log.warn("Moving pipeline {} on failed: {}", pipeline, e.toString());
              }
            });
    for (Retry r : retries) {
      Held h = held.get(r.jobId());
      Gate next = committed.retried().get(r.jobId());
      if (h == null) {
        continue;
      }
      if (next == null || closed) {
        log.info("Collection of job {} was taken over meanwhile; this run stops", r.jobId());
        finish(h);
      } else {
        start(h, next);
      }
    }
    for (CollectionEnd end : ends) {
      Optional.ofNullable(held.get(end.jobId())).ifPresent(this::finish);
    }
  }

  private UUID parentOf(UUID jobId) {
    Held h = held.get(jobId);
    return h == null ? null : h.parentId();
  }

  private static CollectionEnd success(UUID id, Gate gate, JsonNode result) {
    return new CollectionEnd(id, gate.version(), JobStatus.SUCCEEDED, Json.write(result), null);
  }

  private static CollectionEnd failure(UUID id, Gate gate, int attemptsMade, String error) {
    return new CollectionEnd(
        id,
        gate.version(),
        JobStatus.FAILED,
        null,
        attemptsMade == 1
            ? "collector failed: " + error
            : "collector failed after " + attemptsMade + " attempts: " + error);
  }

  /** A held collection is done here (committed, discarded or lost). */
  private void finish(Held h) {
    if (held.remove(h.jobId(), h)) {
      release(h.jobId());
      h.done().complete(null);
    }
  }

  private void release(UUID jobId) {
    queued.remove(jobId);
    holdRoom.release();
  }

  private <T> T tx(Database.TxWork<T> work) {
    transactionsRun.incrementAndGet();
    return db.inTransaction(work);
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
  /** Records each collector attempt's span with {@code traces} (off until called). */
  void traceWith(JobTraces traces) {
    this.traces = traces;
  }

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
    closed = true;
    loops.forEach(Thread::interrupt);
    for (CollectRun run : new ArrayList<>(running)) {
      run.lose("this coordinator is stopping");
    }
    collectorThreads.shutdownNow();
    for (Held h : new ArrayList<>(held.values())) {
      finish(h);
    }
  }
}
