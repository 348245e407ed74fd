package io.sluice.store;

import io.sluice.store.PostgresJobStore.Counts;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's batch of finished tasks as one transaction: the task rows fenced by their lease epoch,
 * the counters of their jobs, and the failure of each job that a task failed under {@code
 * on_task_failure = fail}.
 */
public final class PostgresCompletions {
  private static final Logger log = LoggerFactory.getLogger(PostgresCompletions.class);

  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresPipelines pipelines = new PostgresPipelines();

  /**
   * What a batch committed.
   *
   * @param applied the completions whose fence held, each as the status it was applied as
   * @param counts the counters of every job a terminal completion counted in
   * @param failedJobs the jobs this batch failed
   */
  public record Committed(List<Completion> applied, List<Counts> counts, List<UUID> failedJobs) {}

  /** Applies the batch in the caller's transaction. */
  public Committed commit(Connection c, List<Completion> completions) throws SQLException {
    // The task rows and the counters in one statement: one round trip per batch.
    PostgresTaskStore.Applied batch = tasks.completeAndCount(c, completions);
    List<Completion> applied = batch.applied();
    List<Counts> counts = batch.counts();
    if (counts.isEmpty()) {
      return new Committed(applied, List.of(), List.of());
    }
    Map<UUID, int[]> perJob = new TreeMap<>();
    for (Completion x : applied) {
      if (x.isTerminal()) {
        perJob
            .computeIfAbsent(x.jobId(), j -> new int[2])[
            x.status() == TaskStatus.SUCCEEDED ? 0 : 1]++;
      }
    }
    List<UUID> failedJobs = new ArrayList<>();
    for (Counts job : counts) {
      if (perJob.get(job.id())[1] > 0
          && "fail".equals(job.onTaskFailure())
          && failJob(c, job.id(), applied)) {
        failedJobs.add(job.id());
        if (job.parentId() != null) {
          // A failed stage fails its pipeline and cancels its other stages, in this transaction.
          pipelines.advance(c, job.parentId(), null);
        }
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
    boolean failed = transitions.failedByTask(c, jobId, error).isPresent();
    if (failed) {
      int cancelled = tasks.cancelWaiting(c, jobId);
      log.warn(
          "Job {} FAILED ({}); {} task(s) that had not started are cancelled",
          jobId,
          error,
          cancelled);
    }
    return failed;
  }
}
