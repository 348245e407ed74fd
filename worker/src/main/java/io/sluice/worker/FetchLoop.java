package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.sluice.health.LoopContext;
import io.sluice.health.LoopSupervisor;
import io.sluice.loop.Backoff;
import io.sluice.queue.Delivery;
import io.sluice.queue.Fetched;
import io.sluice.queue.QueueProtocol;
import io.sluice.redis.PriorityBand;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches as many entries as there are free slots from all the worker's queues, claims them in
 * PostgreSQL in one statement (each claim a new lease epoch), and hands the claimed ones to handler
 * threads. Entries whose task is finished, running elsewhere or cancelled are acknowledged without
 * running.
 *
 * <p>The free slots are shared round-robin among the queues that have work: a round reads every
 * queue at once without blocking, each its share (the queue after the last one served goes first),
 * and gives what a drained queue left over to those that still have entries. Only when every queue
 * is empty does the loop block, on all of them at once, so a slot never waits on an empty queue
 * while another has entries. Within a queue the priority bands are read highest first.
 */
final class FetchLoop implements LoopSupervisor.Body {
  private static final Logger log = LoggerFactory.getLogger(FetchLoop.class);
  private static final int MAX_FETCH = 256;
  // Well within the loop's stall deadline; entries arriving in any queue end it at once.
  private static final Duration FETCH_BLOCK = Duration.ofSeconds(1);
  // How often an empty rate-limited queue is read again: it is left out of the blocking read.
  private static final Duration RATED_IDLE_POLL = Duration.ofMillis(100);
  // A wait for a token shorter than this is slept in the worker, not blocked on in Redis.
  private static final Duration PRECISE_WAIT_BELOW = Duration.ofMillis(250);
  // 100 ms doubling to 5 s: entries read but unclaimed wait for PostgreSQL to come back.
  private static final Backoff CLAIM_BACKOFF =
      Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

  private final WorkerConfig config;
  private final List<String> queues;
  private final Database db;
  private final QueueProtocol redis;
  private final Semaphore slots;
  private final InFlight inFlight;
  private final TaskRunner runner;
  private final CompletionWriter writer;
  private final ExecutorService handlers;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final Map<String, Counter> started = new HashMap<>();
  private final List<Counter> backlogFull = new ArrayList<>();
  private final Map<String, Counter> rateLimited = new HashMap<>();
  private final UnclaimableEntries unclaimable;
  private final Counter waits;
  // The index in queues of the queue the next round offers a slot to first.
  private int next;
  private volatile boolean running = true;
  private volatile LoopContext self = LoopContext.unsupervised();

  FetchLoop(WorkerContext ctx, List<String> queues) {
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("a fetch loop needs at least one queue");
    }
    this.config = ctx.config();
    this.queues = List.copyOf(queues);
    this.db = ctx.db();
    this.redis = ctx.redis();
    this.slots = ctx.slots();
    this.inFlight = ctx.inFlight();
    this.runner = ctx.runner();
    this.writer = ctx.writer();
    this.handlers = ctx.handlers();
    this.unclaimable = new UnclaimableEntries(ctx.db(), ctx.redis());
    this.waits =
        Counter.builder("sluice_worker_fetch_waits_total")
            .description("blocking reads, each begun when every queue of the worker was empty")
            .register(ctx.metrics());
    for (String queue : this.queues) {
      started.put(queue, ctx.metrics().counter("sluice_tasks_started_total", "queue", queue));
      backlogFull.add(ctx.metrics().counter("sluice_worker_fetch_paused_total", "queue", queue));
      rateLimited.put(
          queue, ctx.metrics().counter("sluice_worker_fetch_rate_limited_total", "queue", queue));
    }
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
          // Every queue's fetching pauses.
          backlogFull.forEach(Counter::increment);
          continue;
        }
        slots.release(taken - reserved);
        taken = reserved;
        List<Delivery> deliveries = fetch(reserved);
        int started = start(deliveries);
        taken -= started;
        reserved -= started;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // Redis failed us (a killed connection, a restart): end this run; the watchdog restarts the
        // loop with backoff, on a fresh connection, and counts it.
        log.warn("Fetching from queues {} failed: {}", queues, e.toString());
        throw e;
      } finally {
        slots.release(taken);
        inFlight.unreserve(reserved);
      }
    }
  }

  /**
   * Up to {@code count} new entries, shared round-robin among the queues that have work; blocks up
   * to {@link #FETCH_BLOCK} on all queues at once only when every one is empty.
   */
  List<Delivery> fetch(int count) {
    int first = next;
    Map<String, Fetched> last = new HashMap<>();
    List<Delivery> fetched = roundRobin(count, last);
    if (!fetched.isEmpty()) {
      return fetched;
    }
    return await(count, first, last);
  }

  /** The passes of one round; {@code last} gets each queue's latest read. */
  private List<Delivery> roundRobin(int count, Map<String, Fetched> last) {
    int size = queues.size();
    List<Integer> candidates = new ArrayList<>(size);
    for (int k = 0; k < size; k++) {
      candidates.add((next + k) % size);
    }
    List<Delivery> fetched = new ArrayList<>(count);
    int left = count;
    while (left > 0 && !candidates.isEmpty()) {
      // Round-robin by slot: each candidate gets an equal share, the remainder goes one each to
      // the first ones, and the next round (or the next pass of this one) starts after the last.
      int base = left / candidates.size();
      int extra = left % candidates.size();
      Map<String, Integer> shares = new LinkedHashMap<>();
      for (int k = 0; k < candidates.size(); k++) {
        shares.put(queues.get(candidates.get(k)), base + (k < extra ? 1 : 0));
      }
      if (extra > 0) {
        next = (candidates.get(extra - 1) + 1) % size;
      }
      Map<String, Fetched> read = redis.fetchEach(shares, config.workerId(), config.lease());
      last.putAll(read);
      List<Integer> more = new ArrayList<>(candidates.size());
      for (int index : candidates) {
        String queue = queues.get(index);
        Fetched f = read.get(queue);
        fetched.addAll(f.deliveries());
        left -= f.deliveries().size();
        // A queue that filled its share and has entries left takes part in the next pass; a
        // rate-limited one gives less than its share and leaves the rest to the others.
        if (f.more() && f.deliveries().size() == shares.get(queue)) {
          more.add(index);
        }
      }
      // The next pass goes round from where this one's remainder stopped.
      more.sort(Comparator.comparingInt(index -> Math.floorMod(index - next, size)));
      candidates = more;
    }
    return fetched;
  }

  /**
   * Every queue came back empty (or held back): blocks on the open queues at once, for no longer
   * than until a rate-limited queue with entries gets its next token. Paused and rate-limited
   * queues are left out of the blocking read, which consumes entries without their checks: a paused
   * one is read again within {@link #FETCH_BLOCK}, a rate-limited one at its next token or, when it
   * is empty, within {@link #RATED_IDLE_POLL}. A short wait for a token is slept here rather than
   * blocked in Redis, whose timeouts fire only at its {@code hz} (100 ms by default): late wake-ups
   * would leave tokens unspent. With no open queue the loop sleeps too.
   */
  private List<Delivery> await(int count, int first, Map<String, Fetched> last) {
    int size = queues.size();
    long blockMs = FETCH_BLOCK.toMillis();
    long tokenMs = Long.MAX_VALUE;
    List<String> open = new ArrayList<>(size);
    for (int k = 0; k < size; k++) {
      String queue = queues.get((first + k) % size);
      Fetched f = last.get(queue);
      if (f == null || (!f.paused() && !f.rated())) {
        open.add(queue);
      } else if (f.rated() && f.more()) {
        tokenMs = Math.min(tokenMs, Math.max(1, f.waitMs()));
        rateLimited.get(queue).increment();
      } else if (f.rated()) {
        blockMs = Math.min(blockMs, RATED_IDLE_POLL.toMillis());
      }
    }
    waits.increment();
    if (open.isEmpty() || tokenMs < PRECISE_WAIT_BELOW.toMillis()) {
      sleep(Math.min(blockMs, tokenMs));
      return List.of();
    }
    List<Delivery> woken =
        redis.awaitAny(
            open, config.workerId(), count, Duration.ofMillis(Math.min(blockMs, tokenMs)));
    if (!woken.isEmpty()) {
      String queue = PriorityBand.queueOf(woken.get(woken.size() - 1).queue());
      next = (queues.indexOf(queue) + 1) % size;
    }
    return woken;
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
      RunningTask task = new RunningTask(claim, d.queue(), d.entryId(), d.keyLimit());
      inFlight.add(task);
      started.get(PriorityBand.queueOf(d.queue())).increment();
      handlers.execute(() -> runAndRelease(task));
    }
    surplus.addAll(unique.values());
    if (!surplus.isEmpty()) {
      unclaimable.settle(surplus);
    }
    return claimed.size();
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
