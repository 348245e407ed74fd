package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobStore.Stalled;
import io.sluice.store.PostgresTaskRecovery;
import io.sluice.store.PostgresTaskRecovery.Stranded;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconciler's loop step: every non-terminal job has a path to a terminal state that does not
 * depend on one message arriving. It collects jobs whose trigger was lost, repeats dispatches that
 * did not finish, re-queues due retries and reclaims expired leases.
 */
final class Sweeper {
  private static final Logger log = LoggerFactory.getLogger(Sweeper.class);
  private static final int BATCH = 1000;

  private final Database db;
  private final CoordinatorConfig config;
  private final LettuceCoordination redis;
  private final Dispatcher dispatcher;
  private final JobCollector collector;
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskRecovery recovery = new PostgresTaskRecovery();
  private final Counter reclaimed;
  private final Counter retried;

  Sweeper(
      Database db,
      CoordinatorConfig config,
      LettuceCoordination redis,
      Dispatcher dispatcher,
      JobCollector collector,
      MeterRegistry metrics) {
    this.db = db;
    this.config = config;
    this.redis = redis;
    this.dispatcher = dispatcher;
    this.collector = collector;
    this.reclaimed = metrics.counter("sluice_tasks_reclaimed_total");
    this.retried = metrics.counter("sluice_tasks_retried_total");
  }

  void sweepOnce() {
    repairStalledJobs();
    requeueDueRetries();
    reclaimExpiredLeases();
  }

  private void repairStalledJobs() {
    List<Stalled> stalled =
        db.query(
            c ->
                jobs.findStalled(
                    c,
                    config.collectGrace(),
                    config.dispatchGrace(),
                    config.collectingGrace(),
                    100));
    for (Stalled job : stalled) {
      try {
        if (job.status() == JobStatus.QUEUED) {
          dispatcher.redispatch(job.id());
        }
        collector.collect(job.id());
      } catch (RuntimeException e) {
        log.warn("Repairing job {} failed; the next sweep tries again: {}", job.id(), e.toString());
      }
    }
  }

  private void requeueDueRetries() {
    List<Stranded> due = db.query(c -> recovery.dueRetries(c, BATCH));
    if (due.isEmpty()) {
      return;
    }
    enqueue(due);
    int moved = db.inTransaction(c -> recovery.markRetriesQueued(c, due));
    retried.increment(moved);
  }

  private void reclaimExpiredLeases() {
    List<Stranded> expired = db.query(c -> recovery.expiredLeases(c, BATCH));
    if (expired.isEmpty()) {
      return;
    }
    enqueue(expired);
    int count = db.inTransaction(c -> recovery.reclaim(c, expired));
    reclaimed.increment(count);
    if (count > 0) {
      log.warn("Reclaimed {} task(s) whose lease expired; they run again", count);
    }
  }

  /** Puts tasks back on their queues, grouped per queue and job: one script call per group. */
  private void enqueue(List<Stranded> tasks) {
    Map<String, Map<UUID, List<Integer>>> groups = new LinkedHashMap<>();
    for (Stranded t : tasks) {
      groups
          .computeIfAbsent(t.queue(), q -> new LinkedHashMap<>())
          .computeIfAbsent(t.jobId(), j -> new java.util.ArrayList<>())
          .add(t.seq());
    }
    groups.forEach(
        (queue, byJob) ->
            byJob.forEach(
                (jobId, seqs) ->
                    redis.enqueue(
                        queue, jobId, seqs.stream().mapToInt(Integer::intValue).toArray())));
  }
}
