package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.queue.Delivery;
import io.sluice.redis.PriorityBand;
import io.sluice.store.ConcurrencyKey;
import io.sluice.store.Database;
import io.sluice.store.PostgresJobRepair.Cursor;
import io.sluice.store.PostgresJobRepair.Found;
import io.sluice.store.PostgresJobRepair.Kind;
import io.sluice.store.PostgresTaskRecovery.Stranded;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's reconciler step: every non-terminal job has a path to a terminal state that does not
 * depend on one message arriving. It rebuilds Redis after a data loss, collects jobs whose trigger
 * was lost, repeats dispatches that did not finish, re-queues due retries, reclaims expired leases
 * and re-appends stream entries that a dead worker read but never acknowledged.
 */
final class Sweeper {
  private static final Logger log = LoggerFactory.getLogger(Sweeper.class);
  private static final int BATCH = 1000;
  private static final int PAGE = 100;

  private final SweepStore store;
  private final CoordinatorConfig config;
  private final CoordinatorRedis redis;
  private final Repairs repairs;
  private final LeaderElection leader;
  private final Map<Kind, Cursor> cursors = new EnumMap<>(Kind.class);
  private final Counter reclaimed;
  private final Counter retried;
  private final Counter reaped;

  /** What a sweeper works with. */
  record SweeperParts(
      Database db,
      CoordinatorConfig config,
      CoordinatorRedis redis,
      Dispatcher dispatcher,
      JobCollector collector,
      LeaderElection leader,
      QueueControls queues,
      MeterRegistry metrics) {}

  /** What a sweep asks of the rest of the coordinator to repair a job. Tests give a fake. */
  interface Repairs {
    /** Appends the job's queued tasks again (and dispatches it if it never was). */
    void redispatch(UUID jobId);

    /** Starts collecting the job. */
    void collect(UUID jobId);

    /** Rebuilds Redis from PostgreSQL if it lost its data. */
    void rebuildIfLost();

    /** Moves a pipeline on that its stages' moves left behind. */
    void advance(UUID pipelineId);
  }

  Sweeper(SweeperParts parts) {
    this(
        SweepStore.postgres(parts.db()),
        parts.config(),
        parts.redis(),
        repairs(parts),
        parts.leader(),
        parts.metrics());
  }

  /** Working on {@code store} and Redis through {@code repairs}, while {@code leader} leads. */
  Sweeper(
      SweepStore store,
      CoordinatorConfig config,
      CoordinatorRedis redis,
      Repairs repairs,
      LeaderElection leader,
      MeterRegistry metrics) {
    this.store = store;
    this.config = config;
    this.redis = redis;
    this.repairs = repairs;
    this.leader = leader;
    this.reclaimed = metrics.counter("sluice_tasks_reclaimed_total");
    this.retried = metrics.counter("sluice_tasks_retried_total");
    this.reaped = metrics.counter("sluice_stream_entries_reaped_total");
  }

  private static Repairs repairs(SweeperParts parts) {
    Dispatcher dispatcher = parts.dispatcher();
    JobCollector collector = parts.collector();
    RedisRebuild rebuild =
        new RedisRebuild(parts.db(), parts.redis(), dispatcher, parts.queues(), parts.metrics());
    return new Repairs() {
      @Override
      public void redispatch(UUID jobId) {
        dispatcher.redispatch(jobId);
      }

      @Override
      public void collect(UUID jobId) {
        collector.submit(jobId);
      }

      @Override
      public void rebuildIfLost() {
        rebuild.rebuildIfLost();
      }

      @Override
      public void advance(UUID pipelineId) {
        collector.advance(pipelineId);
      }
    };
  }

  void sweepOnce() {
    if (!leader.isLeader()) {
      return;
    }
    repairs.rebuildIfLost();
    markDeadNodes();
    repairStalledJobs();
    requeueDueRetries();
    reclaimExpiredLeases();
    reapUnacknowledgedEntries();
  }

  /**
   * One page of each kind of repair, oldest first, continuing where the last sweep's page of that
   * kind ended: a job it cannot act on now is passed over, so it cannot keep others from repair.
   */
  private void repairStalledJobs() {
    for (Kind kind : Kind.values()) {
      Cursor after = cursors.getOrDefault(kind, Cursor.START);
      List<Found> page = store.stalled(kind, grace(kind), after, PAGE);
      cursors.put(kind, page.size() < PAGE ? Cursor.START : page.getLast().position());
      for (Found job : page) {
        try {
          repair(kind, job.id());
        } catch (RuntimeException e) {
          log.warn(
              "Repairing job {} ({}) failed; a later sweep tries again: {}",
              job.id(),
              kind,
              e.toString());
        }
      }
    }
  }

  private Duration grace(Kind kind) {
    return switch (kind) {
      case UNCOLLECTED, UNADVANCED -> config.collectGrace();
      case STALE_COLLECTING -> config.collectingGrace();
      case DUE -> Duration.ZERO;
      case UNDISPATCHED, NOT_PROGRESSING -> config.dispatchGrace();
    };
  }

  private void repair(Kind kind, UUID jobId) {
    switch (kind) {
      case UNCOLLECTED, STALE_COLLECTING -> repairs.collect(jobId);
      case DUE -> repairs.redispatch(jobId);
      case UNADVANCED -> repairs.advance(jobId);
      case UNDISPATCHED -> redispatchAndTouch(jobId);
      case NOT_PROGRESSING -> {
        // Appending a queued task again is harmless (claims are compare-and-set), so a job that
        // stopped moving while its queue has nothing left to hand out gets its queued tasks
        // appended again rather than trusting Redis. One whose queue still has entries waits for
        // a worker: nothing to do, and the cursor moves past it.
        if (queueDrained(jobId)) {
          redispatchAndTouch(jobId);
        }
      }
    }
  }

  private void redispatchAndTouch(UUID jobId) {
    repairs.redispatch(jobId);
    store.touch(jobId);
  }

  /** True when no worker has anything left to read from the job's queue (every band). */
  private boolean queueDrained(UUID jobId) {
    Optional<String> queue = store.queueOf(jobId);
    return queue.isPresent()
        && redis.queueDepths(PriorityBand.streams(queue.get())).values().stream()
            .allMatch(d -> d.length() - d.pending() <= 0);
  }

  /** Rebuilds Redis from PostgreSQL if it lost its data; run once at start, then every sweep. */
  void rebuildIfLost() {
    repairs.rebuildIfLost();
  }

  /**
   * Marks nodes DEAD that stayed silent for the dead-after time while this leader could reach
   * PostgreSQL: after an outage, nobody's heartbeat could be written, so silence counts only from
   * the outage's end (the start of this leader's unbroken contact).
   */
  private void markDeadNodes() {
    if (leader.unbrokenContact().compareTo(config.nodeDeadAfter()) < 0) {
      return;
    }
    List<String> dead = leader.fenced(store.markDead(config.nodeDeadAfter()));
    if (!dead.isEmpty()) {
      log.warn(
          "Nodes {} stopped heartbeating for {}: marked DEAD, their tasks are reclaimed now",
          dead,
          config.nodeDeadAfter());
    }
  }

  private void requeueDueRetries() {
    List<Stranded> due = store.dueRetries(BATCH);
    if (due.isEmpty()) {
      return;
    }
    enqueue(due);
    retried.increment(leader.fenced(store.markRetriesQueued(due)));
  }

  /**
   * Reclaims tasks whose lease expired, once this leader has reached PostgreSQL without a break for
   * the dead-after time: after an outage every lease looks expired, and the live workers that held
   * them must first get the chance to hand back what they stopped without spending its attempt.
   */
  private void reclaimExpiredLeases() {
    if (leader.unbrokenContact().compareTo(config.nodeDeadAfter()) < 0) {
      return;
    }
    List<Stranded> expired = store.expiredLeases(BATCH);
    if (expired.isEmpty()) {
      return;
    }
    // Appended first, marked QUEUED second: a claim accepts an expired lease too, so either order
    // of claim and mark is safe, and a crash in between leaves the lease expired and found again.
    enqueue(expired);
    int count = leader.fenced(store.reclaim(expired));
    reclaimed.increment(count);
    if (count > 0) {
      log.warn("Reclaimed {} task(s) whose lease expired; they run again", count);
    }
  }

  private void reapUnacknowledgedEntries() {
    Set<String> queues = new TreeSet<>();
    store.activeQueues().forEach(q -> queues.addAll(PriorityBand.streams(q)));
    queues.addAll(store.activeKeyedStreams());
    for (String queue : queues) {
      List<Delivery> stale = redis.takeOverIdleEntries(queue, config.reapIdle(), BATCH);
      if (stale.isEmpty()) {
        continue;
      }
      // By the stream each entry came from: a sharded queue's entries go back to their shard.
      Map<String, Map<UUID, List<Integer>>> byStream = new LinkedHashMap<>();
      stale.forEach(
          s ->
              byStream
                  .computeIfAbsent(s.queue(), q -> new LinkedHashMap<>())
                  .computeIfAbsent(s.jobId(), j -> new ArrayList<>())
                  .add(s.seq()));
      byStream.forEach(
          (stream, byJob) ->
              byJob.forEach(
                  (jobId, seqs) ->
                      redis.enqueue(
                          stream, jobId, seqs.stream().mapToInt(Integer::intValue).toArray())));
      Map<String, List<String>> ids = new LinkedHashMap<>();
      stale.forEach(s -> ids.computeIfAbsent(s.queue(), q -> new ArrayList<>()).add(s.entryId()));
      ids.forEach(redis::ackEntries);
      reaped.increment(stale.size());
      log.info(
          "Re-appended {} entr(ies) of queue {} that no worker acknowledged for {}",
          stale.size(),
          queue,
          config.reapIdle());
    }
  }

  /** Puts tasks back on their queues, grouped per queue and job: one script call per group. */
  private void enqueue(List<Stranded> tasks) {
    Map<String, Map<UUID, List<Integer>>> groups = new LinkedHashMap<>();
    Map<UUID, Integer> keyLimits = new HashMap<>();
    for (Stranded t : tasks) {
      groups
          .computeIfAbsent(t.stream(), q -> new LinkedHashMap<>())
          .computeIfAbsent(t.jobId(), j -> new ArrayList<>())
          .add(t.seq());
      keyLimits.put(t.jobId(), ConcurrencyKey.limitOf(t.concurrency()));
    }
    groups.forEach(
        (queue, byJob) ->
            byJob.forEach(
                (jobId, seqs) ->
                    redis.enqueue(
                        queue,
                        jobId,
                        seqs.stream().mapToInt(Integer::intValue).toArray(),
                        keyLimits.get(jobId))));
  }
}
