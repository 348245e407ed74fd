package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.sluice.health.LoopContext;
import io.sluice.health.LoopSupervisor;
import io.sluice.loop.Backoff;
import io.sluice.queue.Delivery;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches as many entries as there are free slots, claims them in PostgreSQL in one statement (each
 * claim a new lease epoch), and hands the claimed ones to handler threads. Entries whose task is
 * finished, running elsewhere or cancelled are acknowledged without running.
 */
final class FetchLoop implements LoopSupervisor.Body {
  private static final Logger log = LoggerFactory.getLogger(FetchLoop.class);
  private static final int MAX_FETCH = 256;
  private static final Duration FETCH_BLOCK = Duration.ofSeconds(1);
  // 100 ms doubling to 5 s: entries read but unclaimed wait for PostgreSQL to come back.
  private static final Backoff CLAIM_BACKOFF =
      Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

  private final WorkerConfig config;
  private final String queue;
  private final Database db;
  private final QueueProtocol redis;
  private final Semaphore slots;
  private final InFlight inFlight;
  private final TaskRunner runner;
  private final CompletionWriter writer;
  private final ExecutorService handlers;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final Counter started;
  private final Counter backlogFull;
  private volatile boolean running = true;
  private volatile LoopContext self = LoopContext.unsupervised();

  FetchLoop(WorkerContext ctx, String queue) {
    this.config = ctx.config();
    this.queue = queue;
    this.db = ctx.db();
    this.redis = ctx.redis();
    this.slots = ctx.slots();
    this.inFlight = ctx.inFlight();
    this.runner = ctx.runner();
    this.writer = ctx.writer();
    this.handlers = ctx.handlers();
    this.started = ctx.metrics().counter("sluice_tasks_started_total", "queue", queue);
    this.backlogFull = ctx.metrics().counter("sluice_worker_fetch_paused_total", "queue", queue);
  }

  /**
   * Takes a free handler slot and room in the in-flight bound for every entry it fetches: a handler
   * slot comes back when the handler returns, room only when its completion is committed, so
   * fetching stops while the commit backlog is full.
   */
  @Override
  public void run(LoopContext self) {
    this.self = self;
    loop();
  }

  /** The body; tests may run it on a thread of their own, unsupervised. */
  void loop() {
    while (running) {
      self.beat();
      int taken = 0;
      int reserved = 0;
      try {
        if (!slots.tryAcquire(500, TimeUnit.MILLISECONDS)) {
          continue;
        }
        taken = 1 + slots.drainPermits();
        int want = Math.min(taken, MAX_FETCH);
        slots.release(taken - want);
        taken = want;
        reserved = inFlight.reserve(want, 500);
        if (reserved == 0) {
          backlogFull.increment();
          continue;
        }
        slots.release(taken - reserved);
        taken = reserved;
        List<Delivery> deliveries = redis.fetch(queue, config.workerId(), reserved, FETCH_BLOCK);
        int started = start(deliveries);
        taken -= started;
        reserved -= started;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // Redis failed us (a killed connection, a restart): end this run; the watchdog restarts the
        // loop with backoff, on a fresh connection, and counts it.
        log.warn("Fetching from queue {} failed: {}", queue, e.toString());
        throw e;
      } finally {
        slots.release(taken);
        inFlight.unreserve(reserved);
      }
    }
  }

  /** Claims and starts the deliveries; returns how many slots are now taken by running tasks. */
  private int start(List<Delivery> deliveries) {
    if (deliveries.isEmpty()) {
      return 0;
    }
    Map<TaskRef, Delivery> unique = new LinkedHashMap<>();
    List<Delivery> surplus = new ArrayList<>();
    for (Delivery d : deliveries) {
      if (unique.putIfAbsent(new TaskRef(d.jobId(), d.seq()), d) != null) {
        surplus.add(d);
      }
    }
    List<ClaimedTask> claimed = claimRiding(unique.keySet());
    for (ClaimedTask claim : claimed) {
      Delivery d = unique.remove(claim.ref());
      RunningTask task = new RunningTask(claim, d.queue(), d.entryId());
      inFlight.add(task);
      started.increment();
      handlers.execute(() -> runAndRelease(task));
    }
    surplus.addAll(unique.values());
    if (!surplus.isEmpty()) {
      acknowledgeUnclaimable(surplus);
    }
    return claimed.size();
  }

  /**
   * Acknowledges entries whose task is not claimable. Those whose task already has its result
   * committed may be redeliveries from a worker that died between its commit and its fan-in: they
   * are counted again, the fan-in script's bitmap counts each task once, and a job this completes
   * gets its collect trigger now rather than from the sweeper's repair.
   */
  private void acknowledgeUnclaimable(List<Delivery> surplus) {
    Map<String, List<String>> ids = new LinkedHashMap<>();
    surplus.forEach(d -> ids.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entryId()));
    Set<TaskRef> refs = new LinkedHashSet<>();
    surplus.forEach(d -> refs.add(new TaskRef(d.jobId(), d.seq())));
    Map<UUID, List<Integer>> finished;
    try {
      finished = db.query(c -> tasks.finishedOf(c, refs));
    } catch (RuntimeException e) {
      // Left unacknowledged: the reaper re-appends them, and a later delivery counts them.
      log.warn(
          "Checking {} unclaimable task(s) failed; left to the reaper: {}",
          refs.size(),
          e.toString());
      return;
    }
    List<UUID> crossed = new ArrayList<>();
    redis
        .acknowledge(ids, finished)
        .forEach(
            (jobId, fanIn) -> {
              if (fanIn.crossed()) {
                crossed.add(jobId);
              }
            });
    if (!crossed.isEmpty()) {
      redis.signalCollect(crossed);
    }
    log.debug(
        "Acknowledged {} entries whose tasks are not claimable ({} finished, counted again)",
        surplus.size(),
        finished.values().stream().mapToInt(List::size).sum());
  }

  /**
   * Claims, riding out a PostgreSQL outage: the entries are read but not acknowledged, so giving up
   * would strand them until the reaper re-appends them; retrying keeps them moving once PostgreSQL
   * is back.
   */
  private List<ClaimedTask> claimRiding(Set<TaskRef> refs) {
    Backoff.Attempts backoff = CLAIM_BACKOFF.attempts();
    while (true) {
      try {
        // One statement, so auto-commit makes it atomic and saves the round trip of a COMMIT.
        return db.query(c -> tasks.claim(c, config.workerId(), config.lease(), refs));
      } catch (RuntimeException e) {
        if (!running) {
          throw e;
        }
        long delayMs = backoff.nextMillis();
        log.warn(
            "Claiming {} task(s) failed; retrying in {} ms: {}",
            refs.size(),
            delayMs,
            e.toString());
        self.beat();
        sleep(delayMs);
      }
    }
  }

  private void runAndRelease(RunningTask task) {
    Completion completion = null;
    try {
      completion = runner.run(task);
    } finally {
      slots.release();
      if (completion == null) {
        // The runner itself failed (an Error out of a handler): give the claim back rather than
        // holding and renewing it for ever.
        completion =
            Completion.handBack(task.jobId(), task.seq(), task.fenceToken(), "the runner failed");
      }
      try {
        writer.submit(new CompletionWriter.Done(completion, task.queue, task.entryId));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        log.warn(
            "Task {}/{} finished while the worker shut down; its lease lapses",
            task.jobId(),
            task.seq());
      }
    }
  }

  void stop() {
    running = false;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
