package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresTaskRecovery;
import io.sluice.store.PostgresTaskRequeue;
import io.sluice.store.PostgresTaskRequeue.Refused;
import io.sluice.store.PostgresTaskRequeue.Requeued;
import io.sluice.store.PostgresTaskStore;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requeues a dead-lettered task. PostgreSQL first, in one transaction ({@link
 * PostgresTaskRequeue}); then Redis: the task counts as unfinished again in the job's fan-in, the
 * job's tasks go back on their queue, and the job moves QUEUED → RUNNING. A crash or a Redis
 * failure after the commit leaves the job QUEUED, which the sweeper dispatches again after the
 * dispatch grace; a task appended twice is harmless because claims are compare-and-set.
 */
final class TaskRequeuer {
  private static final Logger log = LoggerFactory.getLogger(TaskRequeuer.class);

  /** A committed requeue and what the job looks like after the Redis step. */
  record Done(Requeued requeued, JobStatus jobStatus, long jobVersion, boolean dispatched) {}

  private final Database db;
  private final Supplier<QueueProtocol> redis;
  private final PostgresTaskRequeue requeue = new PostgresTaskRequeue();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresTaskRecovery recovery = new PostgresTaskRecovery();
  private final Counter requeued;
  private final Function<String, Integer> quotaOf;

  /** {@code quotaOf} gives a tenant's quota of active jobs, null when it has none. */
  TaskRequeuer(
      Database db,
      Supplier<QueueProtocol> redis,
      MeterRegistry metrics,
      Function<String, Integer> quotaOf) {
    this.db = db;
    this.redis = redis;
    this.quotaOf = quotaOf;
    this.requeued = metrics.counter("sluice_tasks_requeued_total");
  }

  /**
   * Requeues the task of a job in the caller's scope or throws the {@link Refusal} that says why it
   * cannot be (no such job for another tenant's job, the quota when it would exceed the job's
   * tenant's quota).
   */
  Done requeue(UUID jobId, int seq, Long expectedVersion, Caller caller) {
    UUID parent = db.query(c -> jobs.parentOf(c, jobId));
    UUID pipeline = parent == null ? jobId : parent;
    if ((parent != null
            || db.query(c -> jobs.find(c, caller.scope(), jobId))
                .map(Job::isPipeline)
                .orElse(false))
        && db.query(c -> jobs.find(c, caller.scope(), pipeline)).isPresent()) {
      // Reopening one stage would have to reopen the stages its failure cancelled, and the
      // pipeline with them: not built yet, so refused before anything is written.
      throw new Refusal.JobConflict(
          "a task of a pipeline cannot be requeued (not supported yet); submit the pipeline again");
    }
    String by = caller.describe();
    PostgresTaskRequeue.Outcome outcome =
        db.inTransaction(
            c -> requeue.requeue(c, caller.scope(), jobId, seq, expectedVersion, by, quotaOf));
    if (outcome instanceof Refused refused) {
      throw refusal(refused, jobId, seq);
    }
    Requeued r = (Requeued) outcome;
    requeued.increment();
    log.info(
        "Task {} of job {} requeued by {}; job {} → {}, {} cancelled task(s) revived",
        seq,
        jobId,
        by,
        r.from(),
        r.to(),
        r.revived());
    boolean dispatched = dispatch(r);
    var now = db.query(c -> jobs.find(c, jobId)).orElseThrow();
    return new Done(r, now.status(), now.version(), dispatched);
  }

  private boolean dispatch(Requeued r) {
    try {
      QueueProtocol queue = redis.get();
      if (queue.reopenFanIn(r.jobId(), r.seq()) < 0 && r.to() == JobStatus.QUEUED) {
        rebuildFanIn(queue, r.jobId());
      }
      if (r.to() != JobStatus.QUEUED) {
        return false; // other failed tasks still hold the job FAILED; the last requeue dispatches
      }
      int[] seqs = r.reopened() ? queuedSeqs(r.jobId()) : new int[] {r.seq()};
      if (r.keyLimit() == 0) {
        queue.ensureWorkerGroup(r.queue());
      }
      queue.enqueue(r.queue(), r.jobId(), seqs, r.keyLimit());
      if (r.from() != JobStatus.QUEUED) {
        // A job QUEUED before the requeue is still being dispatched: moving it on here would hide
        // an unfinished dispatch from the sweeper.
        db.inTransaction(c -> transitions.dispatched(c, r.jobId()));
      }
      return true;
    } catch (RuntimeException e) {
      log.warn(
          "Requeued task {} of job {} is committed but not on queue {} yet; the sweeper dispatches"
              + " the job after the dispatch grace: {}",
          r.seq(),
          r.jobId(),
          r.queue(),
          e.toString());
      return false;
    }
  }

  /** Redis lost the job's counter (or it was never made): rebuild it from PostgreSQL. */
  private void rebuildFanIn(QueueProtocol queue, UUID jobId) {
    int taskCount = db.query(c -> jobs.find(c, jobId)).orElseThrow().taskCount();
    int[] finished = db.query(c -> recovery.finishedSeqs(c, jobId));
    queue.rebuildFanIn(jobId, taskCount, finished);
  }

  private int[] queuedSeqs(UUID jobId) {
    return db.inTransaction(c -> tasks.queuedSeqs(c, jobId, 10_000));
  }

  private static Refusal refusal(Refused r, UUID jobId, int seq) {
    String job = jobId.toString();
    return switch (r.reason()) {
      case NO_JOB -> new Refusal.JobNotFound("no job with id " + job, jobId);
      case NO_TASK ->
          new Refusal.JobNotFound("job " + job + " has no task " + seq, jobId).task(seq);
      case VERSION_MISMATCH ->
          new Refusal.JobConflict("the job changed: its version is " + r.jobVersion())
              .with("currentVersion", r.jobVersion());
      case JOB_NOT_REQUEUABLE ->
          new Refusal.JobConflict(
                  "job "
                      + job
                      + " is "
                      + r.jobStatus()
                      + "; tasks can be requeued only while it is "
                      + PostgresTaskRequeue.REQUEUABLE)
              .with("jobStatus", r.jobStatus().name())
              .with("currentVersion", r.jobVersion());
      case OVER_QUOTA ->
          new Refusal.QuotaExceeded(
                  "requeueing task "
                      + seq
                      + " would reopen job "
                      + job
                      + " past its tenant's quota of active jobs; requeue again when one has"
                      + " finished")
              .with("jobStatus", r.jobStatus().name());
      case TASK_NOT_FAILED ->
          new Refusal.JobConflict(
                  "task " + seq + " is " + r.taskStatus() + "; only FAILED tasks are requeued")
              .with("taskStatus", r.taskStatus().name())
              .with("currentVersion", r.jobVersion());
    };
  }
}
