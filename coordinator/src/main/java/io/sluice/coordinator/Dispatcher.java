package io.sluice.coordinator;

import io.sluice.queue.QueueProtocol;
import io.sluice.redis.PriorityBand;
import io.sluice.store.ConcurrencyKey;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobControl;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresTaskStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a stored job's tasks onto its Redis queue. Redis is written first and PostgreSQL second
 * (QUEUED → RUNNING), so a crash in between leaves the job QUEUED and the sweeper dispatches it
 * again; a task appended twice is harmless because claims are compare-and-set. Tasks go to the
 * stream of the job's priority band ({@link PriorityBand}).
 *
 * <p>Fresh jobs are dispatched in batches: a dispatch loop takes every job queued meanwhile (up to
 * {@link #MAX_BATCH}), writes all their fan-in counters and tasks in one Redis pipeline, then moves
 * them all to RUNNING in one transaction. Two loops run, so one batch's round trips overlap the
 * next one's; nothing waits to fill a batch.
 */
final class Dispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final int PAGE = 10_000;

  /** Jobs in one batch at most. */
  static final int MAX_BATCH = 500;

  /** A job to dispatch and what to run once its dispatch ended. */
  private record Pending(Job job, Runnable done) {}

  private final Database db;
  private final PostgresJobStore jobs;
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final QueueProtocol redis;
  private final JobCollector collector;
  private final Set<String> knownQueues = ConcurrentHashMap.newKeySet();
  private final BlockingQueue<Pending> queue;
  private final List<Thread> loops = new ArrayList<>();
  private volatile boolean running = true;

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
    this.queue = new ArrayBlockingQueue<>(capacity);
    for (int i = 0; i < 2; i++) {
      Thread t = Threads.named("dispatch").newThread(this::loop);
      loops.add(t);
      t.start();
    }
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
    if (!running || !queue.offer(new Pending(job, done))) {
      // Only when shutting down, or when more jobs were admitted than the queue holds (a bug):
      // the job is stored QUEUED, so the sweeper dispatches it after the dispatch grace.
      done.run();
      log.warn("Dispatch queue refused job {}; the sweeper will dispatch it", job.id());
    }
  }

  private void loop() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (running) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      try {
        dispatchAll(batch.stream().map(p -> fresh(p.job())).toList());
      } catch (RuntimeException e) {
        log.warn(
            "Dispatch of {} job(s) failed; the sweeper will repeat it: {}",
            batch.size(),
            e.getMessage());
      } finally {
        batch.forEach(p -> p.done().run());
        batch.clear();
      }
    }
  }

  /** A fresh job: every task QUEUED, seqs 0…n-1. */
  private static Target fresh(Job job) {
    return new Target(job, job.taskCount(), IntStream.range(0, job.taskCount()).toArray());
  }

  /** A job to dispatch: the tasks not yet finished, and those of them to append. */
  private record Target(Job job, int remaining, int[] seqs) {}

  /**
   * Every counter and task in one Redis pipeline, then QUEUED → RUNNING for all in one transaction
   * (with the pipelines whose first stage this is). A job cancelled meanwhile gets its new counter
   * deleted, since it would outlive the job; one with no task left to run is collected.
   */
  private void dispatchAll(List<Target> targets) {
    List<QueueProtocol.JobDispatch> writes = new ArrayList<>(targets.size());
    for (Target t : targets) {
      ConcurrencyKey concurrency = t.job().concurrency();
      String stream =
          PriorityBand.stream(
              t.job().queue(), t.job().priority(), ConcurrencyKey.keyOf(concurrency));
      // A concurrency key's stream is created (group and all) by the first fetch that reads it.
      if (concurrency == null && knownQueues.add(stream)) {
        redis.ensureWorkerGroup(stream);
      }
      writes.add(
          new QueueProtocol.JobDispatch(
              t.job().id(), stream, t.remaining(), t.seqs(), ConcurrencyKey.limitOf(concurrency)));
    }
    redis.dispatch(writes);
    List<UUID> ids = targets.stream().map(t -> t.job().id()).toList();
    Set<UUID> moved =
        db.inTransaction(
            c -> {
              Set<UUID> started = transitions.dispatchedAll(c, ids);
              Set<UUID> pipelines = new TreeSet<>();
              for (Target t : targets) {
                if (t.job().parentId() != null && started.contains(t.job().id())) {
                  pipelines.add(t.job().parentId()); // its first stage running: RUNNING
                }
              }
              transitions.dispatchedAll(c, pipelines);
              return started;
            });
    List<UUID> notMoved = ids.stream().filter(id -> !moved.contains(id)).toList();
    Set<UUID> finished = new HashSet<>();
    if (!notMoved.isEmpty()) {
      db.query(c -> jobs.findAll(c, notMoved)).stream()
          .filter(j -> j.status().isTerminal())
          .forEach(j -> finished.add(j.id()));
      redis.deleteJobKeys(List.copyOf(finished));
    }
    for (Target t : targets) {
      if (t.remaining() == 0 && !finished.contains(t.job().id())) {
        collector.submit(t.job().id());
      }
    }
    log.debug("Dispatched {} job(s), {} moved to RUNNING", targets.size(), moved.size());
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
    dispatchAll(List.of(new Target(job, remaining, seqs)));
  }

  /** Forgets which queues have a consumer group, after Redis lost its data. */
  void forgetQueues() {
    knownQueues.clear();
  }

  @Override
  public void close() {
    running = false;
    loops.forEach(Thread::interrupt);
  }
}
