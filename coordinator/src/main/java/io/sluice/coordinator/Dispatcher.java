package io.sluice.coordinator;

import io.sluice.queue.QueueProtocol;
import io.sluice.redis.PriorityBand;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobControl;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresTaskStore;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a stored job's tasks onto its Redis queue. Redis is written first and PostgreSQL second
 * (QUEUED → RUNNING), so a crash in between leaves the job QUEUED and the sweeper dispatches it
 * again; a task appended twice is harmless because claims are compare-and-set. Tasks go to the
 * stream of the job's priority band ({@link PriorityBand}).
 */
final class Dispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final int PAGE = 10_000;

  private final Database db;
  private final PostgresJobStore jobs;
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final QueueProtocol redis;
  private final JobCollector collector;
  private final Set<String> knownQueues = ConcurrentHashMap.newKeySet();
  private final ThreadPoolExecutor executor;

  /**
   * @param capacity how many dispatches may wait; admission control never admits more jobs than
   *     this, so the queue is bounded and never overflows
   */
  Dispatcher(
      Database db,
      PostgresJobStore jobs,
      QueueProtocol redis,
      JobCollector collector,
      int capacity) {
    this.db = db;
    this.jobs = jobs;
    this.redis = redis;
    this.collector = collector;
    this.executor =
        new ThreadPoolExecutor(
            2,
            2,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(capacity),
            Threads.named("dispatch"));
  }

  /**
   * Dispatches a freshly stored job in the background; every task is QUEUED, seqs 0…n-1. {@code
   * done} runs once the dispatch ended, or was left to the sweeper.
   */
  void dispatchAsync(Job job, Runnable done) {
    if (job.isPipeline()) {
      dispatchStages(job.id(), done);
      return;
    }
    try {
      executor.execute(
          () -> {
            try {
              dispatch(
                  job.id(),
                  job.parentId(),
                  PriorityBand.stream(job.queue(), job.priority()),
                  job.taskCount(),
                  IntStream.range(0, job.taskCount()).toArray());
            } catch (RuntimeException e) {
              log.warn(
                  "Dispatch of job {} failed; the sweeper will repeat it: {}",
                  job.id(),
                  e.getMessage());
            } finally {
              done.run();
            }
          });
    } catch (RejectedExecutionException e) {
      // Only when shutting down, or when more jobs were admitted than the queue holds (a bug):
      // the job is stored QUEUED, so the sweeper dispatches it after the dispatch grace.
      done.run();
      log.warn("Dispatch queue refused job {}; the sweeper will dispatch it", job.id());
    }
  }

  /**
   * Dispatches every QUEUED stage of a pipeline (those its submission split); {@code done} runs
   * once the last of them ended.
   */
  private void dispatchStages(UUID pipelineId, Runnable done) {
    List<Job> queued =
        db.query(c -> jobs.stagesOf(c, pipelineId)).stream()
            .filter(s -> s.status() == JobStatus.QUEUED)
            .toList();
    if (queued.isEmpty()) {
      done.run();
      return;
    }
    AtomicInteger left = new AtomicInteger(queued.size());
    for (Job stage : queued) {
      dispatchAsync(
          stage,
          () -> {
            if (left.decrementAndGet() == 0) {
              done.run();
            }
          });
    }
  }

  /** Dispatches a job again after a crash or a Redis loss: only the tasks still QUEUED. */
  void redispatch(UUID jobId) {
    Job job = db.query(c -> jobs.find(c, jobId)).orElse(null);
    if (job == null
        || job.isPipeline()
        || job.status() != JobStatus.QUEUED && job.status() != JobStatus.RUNNING) {
      return; // A pipeline's own row has no tasks; its stages are dispatched one by one.
    }
    if (job.status() == JobStatus.QUEUED
        && job.runAt() != null
        && !db.query(c -> new PostgresJobControl().isDue(c, jobId))) {
      return; // A delayed job: the sweeper dispatches it once its runAt has come.
    }
    // A cursor needs a transaction; it only reads.
    int[] seqs = db.inTransaction(c -> tasks.queuedSeqs(c, jobId, PAGE));
    log.info("Re-dispatching {} queued task(s) of job {}", seqs.length, jobId);
    int remaining = job.taskCount() - job.tasksSucceeded() - job.tasksFailed();
    dispatch(
        jobId, job.parentId(), PriorityBand.stream(job.queue(), job.priority()), remaining, seqs);
  }

  /** {@code pipeline}: the pipeline a stage belongs to, null for a one-stage job. */
  private void dispatch(UUID jobId, UUID pipeline, String queue, int remaining, int[] seqs) {
    redis.initFanIn(jobId, remaining);
    if (knownQueues.add(queue)) {
      redis.ensureWorkerGroup(queue);
    }
    redis.enqueue(queue, jobId, seqs);
    boolean moved =
        db.inTransaction(
                c -> {
                  var dispatched = transitions.dispatched(c, jobId);
                  if (dispatched.isPresent() && pipeline != null) {
                    transitions.dispatched(c, pipeline); // its first stage running: RUNNING
                  }
                  return dispatched;
                })
            .isPresent();
    if (!moved
        && db.query(c -> jobs.find(c, jobId)).map(j -> j.status().isTerminal()).orElse(true)) {
      // Cancelled while being dispatched: the counter just created would outlive the job.
      redis.deleteJobKeys(jobId);
      return;
    }
    log.debug("Job {}: {} task(s) on queue {}", jobId, seqs.length, queue);
    if (remaining == 0) {
      collector.submit(jobId);
    }
  }

  /** Forgets which queues have a consumer group, after Redis lost its data. */
  void forgetQueues() {
    knownQueues.clear();
  }

  @Override
  public void close() {
    executor.shutdown();
  }
}
