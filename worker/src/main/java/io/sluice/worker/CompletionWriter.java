package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.health.LoopContext;
import io.sluice.health.LoopSupervisor;
import io.sluice.loop.Backoff;
import io.sluice.queue.FanIn;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.PostgresCompletions;
import io.sluice.store.PostgresCompletions.Committed;
import io.sluice.store.PostgresJobStore.Counts;
import io.sluice.store.TaskStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's one writer: batches finished tasks into a single transaction (task rows fenced by
 * lease_epoch, job counters, job failure), commits, and only then acknowledges the stream entries
 * and counts the fan-in in one Redis pipeline. A crash between commit and acknowledgement
 * redelivers entries whose claims then find the tasks finished, and the fan-in bitmap ignores
 * repeats.
 */
final class CompletionWriter implements LoopSupervisor.Body {
  private static final Logger log = LoggerFactory.getLogger(CompletionWriter.class);
  private static final int MAX_BATCH = 1000;
  // 100 ms doubling to 5 s: an outage is ridden out without hammering PostgreSQL as it comes back.
  private static final Backoff RETRY_BACKOFF =
      Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

  /** A finished task waiting to be written, with the stream entry to acknowledge after. */
  record Done(Completion completion, String queue, String entryId) {}

  /** Commits one batch of completions in one transaction. Tests give a fake. */
  @FunctionalInterface
  interface Completions {
    Committed commit(List<Completion> batch);
  }

  /** Waits between retries. Tests give one that only records the delays. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  private final Completions completions;
  private final QueueProtocol redis;
  private final InFlight inFlight;
  private final Sleeper sleeper;
  private final BlockingQueue<Done> queue;
  private final Counter zombies;
  private final Counter poisoned;
  private final Counter succeeded;
  private final Counter failed;
  private final Counter retried;
  private final Counter handedBack;
  private volatile boolean running = true;
  private volatile LoopContext self = LoopContext.unsupervised();
  private volatile long failingSince;

  CompletionWriter(Database db, QueueProtocol redis, InFlight inFlight, MeterRegistry metrics) {
    this(postgres(db), redis, inFlight, metrics, Thread::sleep);
  }

  /** Committing through {@code completions} and waiting between retries with {@code sleeper}. */
  CompletionWriter(
      Completions completions,
      QueueProtocol redis,
      InFlight inFlight,
      MeterRegistry metrics,
      Sleeper sleeper) {
    this.completions = completions;
    this.redis = redis;
    this.inFlight = inFlight;
    this.sleeper = sleeper;
    // Never more completions than claims held; the bound is the in-flight capacity.
    this.queue = new LinkedBlockingQueue<>(Math.min(inFlight.capacity(), 1_000_000));
    this.zombies = metrics.counter("sluice_zombie_commits_rejected_total");
    this.poisoned = metrics.counter("sluice_completions_unstorable_total");
    this.succeeded = metrics.counter("sluice_tasks_succeeded_total");
    this.failed = metrics.counter("sluice_tasks_failed_total");
    this.retried = metrics.counter("sluice_tasks_retry_scheduled_total");
    this.handedBack = metrics.counter("sluice_tasks_handed_back_total");
  }

  /** The completions of the {@code tasks} and {@code jobs} tables. */
  static Completions postgres(Database db) {
    PostgresCompletions completions = new PostgresCompletions();
    return batch -> db.inTransaction(c -> completions.commit(c, batch));
  }

  /** Queues a finished task for the next batch; waits while the queue is full. */
  void submit(Done done) throws InterruptedException {
    queue.put(done);
  }

  /** False while the last attempt to commit failed for a reason that retrying may cure. */
  boolean healthy() {
    return failingSince == 0;
  }

  /** Tasks finished but not yet committed. */
  int backlog() {
    return queue.size();
  }

  @Override
  public void run(LoopContext self) {
    this.self = self;
    loop();
  }

  /** The body; tests may run it on a thread of their own, unsupervised. */
  void loop() {
    List<Done> batch = new ArrayList<>(MAX_BATCH);
    while (running || !queue.isEmpty()) {
      self.beat();
      try {
        Done first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        writeWithRetry(batch);
        batch.clear();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Writes the batch, retrying transient failures (PostgreSQL or Redis unreachable, a timeout, a
   * serialization failure) with backoff; a permanent one (the data itself is refused) splits the
   * batch until the completion PostgreSQL cannot store is alone, and fails that task instead.
   */
  private void writeWithRetry(List<Done> batch) throws InterruptedException {
    writeWithRetry(batch, true);
  }

  private void writeWithRetry(List<Done> batch, boolean isolatePoison) throws InterruptedException {
    Backoff.Attempts backoff = RETRY_BACKOFF.attempts();
    while (true) {
      try {
        write(batch);
        if (failingSince != 0) {
          failingSince = 0;
          log.info("Completions commit again");
        }
        return;
      } catch (RuntimeException e) {
        if (WriteFailure.isPermanent(e)) {
          if (isolatePoison) {
            isolate(batch, e);
          } else {
            // Even the plain failure is refused: drop it; its lease lapses and it is reclaimed.
            log.error(
                "A task's failure cannot be stored either; left to be reclaimed: {}", e.toString());
            batch.forEach(d -> inFlight.remove(InFlight.Key.of(d.completion())));
          }
          return;
        }
        // Keep the batch; leases that expire meanwhile are fenced, so retrying later can never
        // commit a stale result. Readiness fails until a write succeeds.
        if (failingSince == 0) {
          failingSince = System.nanoTime();
        }
        long delayMs = backoff.nextMillis();
        log.warn(
            "Writing {} completion(s) failed; retrying in {} ms: {}",
            batch.size(),
            delayMs,
            e.toString());
        self.beat();
        sleeper.sleep(delayMs);
      }
    }
  }

  private void isolate(List<Done> batch, RuntimeException e) throws InterruptedException {
    if (batch.size() > 1) {
      int half = batch.size() / 2;
      writeWithRetry(List.copyOf(batch.subList(0, half)));
      writeWithRetry(List.copyOf(batch.subList(half, batch.size())));
      return;
    }
    Done poison = batch.get(0);
    Completion x = poison.completion();
    poisoned.increment();
    String error = WriteFailure.describe(e);
    log.warn(
        "PostgreSQL refused the completion of task {}/{} ({}); the task is FAILED instead",
        x.jobId(),
        x.seq(),
        error);
    Completion failed =
        new Completion(x.jobId(), x.seq(), x.leaseEpoch(), TaskStatus.FAILED, null, error, 0);
    writeWithRetry(List.of(new Done(failed, poison.queue(), poison.entryId())), false);
  }

  /**
   * Commits one batch and signals its fan-in; package-private so race tests can drive it directly.
   */
  void write(List<Done> batch) {
    List<Completion> written = batch.stream().map(Done::completion).toList();
    Committed committed = completions.commit(written);
    FaultInjection.afterCommitBeforeAck();
    int rejected = written.size() - committed.applied().size();
    if (rejected > 0) {
      zombies.increment(rejected);
      log.warn(
          "Rejected {} completion(s) whose lease was lost (a newer claim holds the task); their results are discarded",
          rejected);
    }
    Map<String, List<String>> entries = new TreeMap<>();
    batch.forEach(d -> entries.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entryId()));
    Map<UUID, List<Integer>> finished = new TreeMap<>();
    for (Completion x : committed.applied()) {
      if (x.isTerminal()) {
        finished.computeIfAbsent(x.jobId(), j -> new ArrayList<>()).add(x.seq());
      }
      switch (x.status()) {
        case SUCCEEDED -> succeeded.increment();
        case FAILED -> failed.increment();
        case RETRY_WAIT -> retried.increment();
        default -> handedBack.increment();
      }
    }
    requeueHandedBack(batch, committed.applied());
    Map<UUID, FanIn> fanIns = redis.acknowledge(entries, finished);
    if (!committed.failedJobs().isEmpty()) {
      // A failed job is finished: its fan-in keys go at once; its history is in PostgreSQL.
      redis.deleteJobKeys(committed.failedJobs());
    }
    List<UUID> ready = new ArrayList<>();
    for (Counts counts : committed.counts()) {
      FanIn fanIn = fanIns.get(counts.id());
      boolean crossed = fanIn != null && fanIn.crossed();
      boolean fallback = (fanIn == null || fanIn.counterMissing()) && counts.allFinished();
      if (crossed || fallback) {
        ready.add(counts.id());
      }
    }
    if (!ready.isEmpty()) {
      redis.signalCollect(ready);
    }
    batch.forEach(d -> inFlight.remove(InFlight.Key.of(d.completion())));
  }

  /**
   * Appends a new entry for every task handed back as QUEUED (before the old entries are
   * acknowledged, as a drain does), so it runs again.
   */
  private void requeueHandedBack(List<Done> batch, List<Completion> applied) {
    Map<InFlight.Key, String> streams = new HashMap<>();
    batch.forEach(d -> streams.put(InFlight.Key.of(d.completion()), d.queue()));
    Map<String, Map<UUID, List<Integer>>> groups = new TreeMap<>();
    for (Completion x : applied) {
      if (x.isHandBack()) {
        groups
            .computeIfAbsent(streams.get(InFlight.Key.of(x)), q -> new TreeMap<>())
            .computeIfAbsent(x.jobId(), j -> new ArrayList<>())
            .add(x.seq());
      }
    }
    groups.forEach((q, byJob) -> byJob.forEach((jobId, seqs) -> redis.enqueue(q, jobId, seqs)));
  }

  /** Stops after writing what is queued. */
  void stop() {
    running = false;
  }
}
