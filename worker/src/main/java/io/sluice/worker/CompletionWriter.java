package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.store.PostgresJobStore.Counts;
import io.sluice.store.PostgresJobStore.Transition;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskStatus;
import io.sluice.worker.redis.JedisTaskQueue;
import io.sluice.worker.redis.JedisTaskQueue.FanIn;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
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
final class CompletionWriter extends SupervisedBody {
  private static final Logger log = LoggerFactory.getLogger(CompletionWriter.class);
  private static final int MAX_BATCH = 1000;

  /** A finished task waiting to be written, with the stream entry to acknowledge after. */
  record Done(Completion completion, String queue, String entryId) {}

  private final Database db;
  private final JedisTaskQueue redis;
  private final InFlight inFlight;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final BlockingQueue<Done> queue = new LinkedBlockingQueue<>();
  private final Counter zombies;
  private final Counter succeeded;
  private final Counter failed;
  private final Counter retried;
  private volatile boolean running = true;

  CompletionWriter(Database db, JedisTaskQueue redis, InFlight inFlight, MeterRegistry metrics) {
    this.db = db;
    this.redis = redis;
    this.inFlight = inFlight;
    this.zombies = metrics.counter("sluice_zombie_commits_rejected_total");
    this.succeeded = metrics.counter("sluice_tasks_succeeded_total");
    this.failed = metrics.counter("sluice_tasks_failed_total");
    this.retried = metrics.counter("sluice_tasks_retry_scheduled_total");
  }

  void submit(Done done) {
    queue.add(done);
  }

  /** Tasks finished but not yet committed. */
  int backlog() {
    return queue.size();
  }

  @Override
  void loop() {
    List<Done> batch = new ArrayList<>(MAX_BATCH);
    while (running || !queue.isEmpty()) {
      beat();
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

  private void writeWithRetry(List<Done> batch) throws InterruptedException {
    long backoffMs = 100;
    while (true) {
      try {
        write(batch);
        return;
      } catch (RuntimeException e) {
        // PostgreSQL or Redis is unreachable: keep the batch; leases that expire meanwhile are
        // fenced, so retrying later can never commit a stale result.
        log.warn(
            "Writing {} completion(s) failed; retrying in {} ms: {}",
            batch.size(),
            backoffMs,
            e.toString());
        beat();
        Thread.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  /**
   * Commits one batch and signals its fan-in; package-private so race tests can drive it directly.
   */
  void write(List<Done> batch) {
    List<Completion> completions = batch.stream().map(Done::completion).toList();
    Committed committed = db.inTransaction(c -> commit(c, completions));
    FaultInjection.afterCommitBeforeAck();
    int rejected = completions.size() - committed.applied().size();
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
      (x.status() == TaskStatus.SUCCEEDED
              ? succeeded
              : x.status() == TaskStatus.FAILED ? failed : retried)
          .increment();
    }
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
    batch.forEach(d -> inFlight.remove(d.completion().jobId(), d.completion().seq()));
  }

  private record Committed(List<Completion> applied, List<Counts> counts, List<UUID> failedJobs) {}

  private Committed commit(Connection c, List<Completion> completions) throws SQLException {
    List<Completion> applied = tasks.complete(c, completions);
    Map<UUID, int[]> perJob = new TreeMap<>();
    for (Completion x : applied) {
      if (x.isTerminal()) {
        perJob
            .computeIfAbsent(x.jobId(), j -> new int[2])[
            x.status() == TaskStatus.SUCCEEDED ? 0 : 1]++;
      }
    }
    if (perJob.isEmpty()) {
      return new Committed(applied, List.of(), List.of());
    }
    List<CountDelta> deltas = new ArrayList<>();
    perJob.forEach((id, n) -> deltas.add(new CountDelta(id, n[0], n[1])));
    List<Counts> counts = jobs.addCounts(c, deltas);
    List<UUID> failedJobs = new ArrayList<>();
    for (Counts job : counts) {
      if (perJob.get(job.id())[1] > 0
          && "fail".equals(job.onTaskFailure())
          && failJob(c, job.id(), applied)) {
        failedJobs.add(job.id());
      }
    }
    return new Committed(applied, counts, failedJobs);
  }

  /** Fails the job if it is still active; returns whether this call failed it. */
  private boolean failJob(Connection c, UUID jobId, List<Completion> applied) throws SQLException {
    String error =
        applied.stream()
            .filter(x -> x.jobId().equals(jobId) && x.status() == TaskStatus.FAILED)
            .findFirst()
            .map(x -> "task " + x.seq() + " failed: " + x.error())
            .orElse("a task failed");
    var moved =
        jobs.transition(
            c,
            new Transition(
                jobId,
                List.of(JobStatus.QUEUED, JobStatus.RUNNING),
                JobStatus.FAILED,
                null,
                false,
                error,
                null));
    if (moved.isPresent()) {
      int cancelled = tasks.cancelWaiting(c, jobId);
      log.warn(
          "Job {} FAILED ({}); {} task(s) that had not started are cancelled",
          jobId,
          error,
          cancelled);
    }
    return moved.isPresent();
  }

  /** Stops after writing what is queued. */
  void stop() {
    running = false;
  }
}
