package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.ConcurrencyLimits;
import io.sluice.health.LoopSpec;
import io.sluice.health.LoopSupervisor;
import io.sluice.loop.Backoff;
import io.sluice.queue.ConcurrencySlots;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.RedisKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces {@code maxConcurrency} per queue and per job type across all workers. Before a claimed
 * task's handler runs, its worker takes a slot of every bounded counter the task falls under, all
 * at once in one Lua script (see {@link ConcurrencySlots}); when they are full it waits, polling
 * with jittered backoff while its lease is renewed, until a slot frees or the task is told to stop.
 * Slots are renewed while the handler runs, even once it was told to stop, and released only when
 * it returns; a worker that dies stops renewing, and its slots expire a lease later.
 *
 * <p>A task of a job's {@code concurrencyKey} already holds its key's slot when it gets here: the
 * read that gave it to this worker took it ({@code fetch.lua}), so a key at its limit holds back
 * only its own tasks, unread, rather than this worker's slots. The gate renews that slot with the
 * others and gives it back when the handler returns (acknowledging its entry would too).
 */
final class ConcurrencyGate implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConcurrencyGate.class);
  // 10 ms doubling to 250 ms, each wait drawn from [w/2, w): waiters of one full limit spread out.
  private static final Backoff WAIT =
      Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(250)).withJitter(0.5, 1);

  /** A gate that limits nothing and touches no Redis. */
  static final ConcurrencyGate UNLIMITED = new ConcurrencyGate();

  private final ConcurrencyLimits limits;
  private final ConcurrencySlots slots;
  private final RedisKeys keys;
  private final Duration lease;
  private final Set<Permit> held = ConcurrentHashMap.newKeySet();
  private final LoopSupervisor.Loop renewer;
  private final Counter waits;
  private final Counter lost;

  private ConcurrencyGate() {
    this.limits = ConcurrencyLimits.NONE;
    this.slots = null;
    this.keys = null;
    this.lease = null;
    this.renewer = null;
    this.waits = null;
    this.lost = null;
  }

  /** A gate whose slot renewal runs as a loop of {@code loops}. */
  ConcurrencyGate(
      WorkerConfig config, ConcurrencySlots slots, MeterRegistry metrics, LoopSupervisor loops) {
    this.limits = config.concurrencyLimits();
    this.slots = slots;
    this.keys = new RedisKeys(config.redis().prefix());
    this.lease = config.lease();
    this.waits = metrics.counter("sluice_concurrency_slot_waits_total");
    this.lost = metrics.counter("sluice_concurrency_slots_lost_total");
    Gauge.builder("sluice_concurrency_slots_held", held, Set::size).register(metrics);
    Duration every = Duration.ofMillis(Math.max(100, lease.toMillis() / 3));
    this.renewer = loops.start(LoopSpec.every("slot-renewer", every, every, this::renewAll));
  }

  /** The slots one running task holds; closing gives them back. */
  final class Permit implements AutoCloseable {
    private final RunningTask task;
    private final List<String> counters;
    private final String holder;
    // The concurrency key's slot the task's read took, and its holder; null without a key.
    private final String keySlots;
    private final String keyHolder;

    private Permit(RunningTask task, List<String> counters, String holder) {
      this.task = task;
      this.counters = counters;
      this.holder = holder;
      if (task.keyLimit > 0 && keys != null) {
        this.keySlots = keys.keySlots(task.queue);
        this.keyHolder = task.entryId + "/" + PriorityBand.of(task.queue).number();
      } else {
        this.keySlots = null;
        this.keyHolder = null;
      }
    }

    @Override
    public void close() {
      if (!held.remove(this)) {
        return;
      }
      try {
        if (!counters.isEmpty()) {
          slots.release(counters, holder);
        }
        if (keySlots != null) {
          slots.release(List.of(keySlots), keyHolder);
        }
      } catch (RuntimeException e) {
        log.warn(
            "Releasing the concurrency slots of task {}/{} failed; they expire with its lease: {}",
            task.jobId(),
            task.seq(),
            e.toString());
      }
    }
  }

  /**
   * Waits until the task holds a slot of every counter it falls under; returns the permit to close
   * when the handler returns, or null when the task was told to stop while waiting. A task under no
   * limit gets a permit at once without a Redis call.
   */
  Permit acquire(RunningTask task) throws InterruptedException {
    List<String> counters = new ArrayList<>(2);
    List<Integer> bounds = new ArrayList<>(2);
    String queue = PriorityBand.queueOf(task.queue);
    limits.forQueue(queue).ifPresent(l -> add(counters, bounds, keys.queueSlots(queue), l));
    limits
        .forType(task.claim.type())
        .ifPresent(l -> add(counters, bounds, keys.typeSlots(task.claim.type()), l));
    if (counters.isEmpty()) {
      Permit permit = new Permit(task, counters, null);
      if (permit.keySlots != null) {
        held.add(permit);
      }
      return permit;
    }
    String holder = task.jobId() + ":" + task.seq() + ":" + task.fenceToken();
    Backoff.Attempts wait = WAIT.attempts();
    boolean counted = false;
    while (!task.isCancelled()) {
      if (slots.tryAcquire(counters, bounds, holder, lease) == 0) {
        Permit permit = new Permit(task, counters, holder);
        held.add(permit);
        return permit;
      }
      if (!counted) {
        waits.increment();
        counted = true;
      }
      Thread.sleep(wait.nextMillis());
    }
    return null;
  }

  private static void add(List<String> counters, List<Integer> bounds, String key, int limit) {
    counters.add(key);
    bounds.add(limit);
  }

  /**
   * Extends every held slot. A task told to stop (cancelled, lease lost) keeps its slot renewed for
   * as long as its handler runs: the bound counts what runs, not what should.
   */
  private void renewAll() {
    for (Permit p : List.copyOf(held)) {
      try {
        if (p.keySlots != null
            && slots.renew(List.of(p.keySlots), p.keyHolder, lease) == 0
            && slots.tryAcquire(List.of(p.keySlots), List.of(p.task.keyLimit), p.keyHolder, lease)
                != 0) {
          lost.increment();
          log.warn(
              "Task {}/{} lost its concurrency key's slot (Redis lost it or the renewal came late)"
                  + " and the key is at its limit; it keeps running, so the key's limit may be"
                  + " exceeded until it ends",
              p.task.jobId(),
              p.task.seq());
        }
        if (!p.counters.isEmpty()
            && slots.renew(p.counters, p.holder, lease) < p.counters.size()
            && slots.tryAcquire(p.counters, limitsOf(p), p.holder, lease) != 0) {
          lost.increment();
          log.warn(
              "Task {}/{} lost its concurrency slot (Redis lost it or the renewal came late) and"
                  + " the limit is full; it keeps running, so the limit may be exceeded until it ends",
              p.task.jobId(),
              p.task.seq());
        }
      } catch (RuntimeException e) {
        log.warn("Renewing concurrency slots failed; retrying shortly: {}", e.toString());
      }
    }
  }

  private List<Integer> limitsOf(Permit p) {
    List<Integer> bounds = new ArrayList<>(p.counters.size());
    String queue = PriorityBand.queueOf(p.task.queue);
    limits.forQueue(queue).ifPresent(bounds::add);
    limits.forType(p.task.claim.type()).ifPresent(bounds::add);
    return bounds;
  }

  @Override
  public void close() {
    if (renewer != null) {
      renewer.stop();
    }
    if (slots != null) {
      slots.close();
    }
  }
}
