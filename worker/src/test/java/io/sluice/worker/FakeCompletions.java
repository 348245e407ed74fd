package io.sluice.worker;

import io.sluice.store.Completion;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresCompletions.Committed;
import io.sluice.store.PostgresJobStore.Counts;
import io.sluice.store.TaskStatus;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The completion transaction as PostgreSQL runs it, in memory: a completion applies only to a
 * RUNNING task at the same lease epoch, terminal ones count towards their job, a failed task fails
 * a job whose policy is {@code fail}. A NUL in an output or error is refused with SQLSTATE 22P05 as
 * PostgreSQL refuses it, and {@link #failNext} makes commits fail as if the connection dropped.
 * Either way nothing of the batch is applied.
 */
final class FakeCompletions implements CompletionWriter.Completions {
  private record Task(UUID jobId, int seq) {}

  private static final class Job {
    final int taskCount;
    final String onTaskFailure;
    JobStatus status = JobStatus.RUNNING;
    int succeeded;
    int failed;

    Job(int taskCount, String onTaskFailure) {
      this.taskCount = taskCount;
      this.onTaskFailure = onTaskFailure;
    }
  }

  private final Map<Task, TaskStatus> status = new HashMap<>();
  private final Map<Task, Long> epoch = new HashMap<>();
  private final Map<Task, String> error = new HashMap<>();
  private final Map<UUID, Job> jobs = new HashMap<>();
  final List<List<Completion>> batches = new ArrayList<>();
  private int failures;

  /** A RUNNING job whose tasks are all claimed at {@code leaseEpoch}. */
  void runningJob(UUID jobId, int taskCount, String onTaskFailure, long leaseEpoch) {
    jobs.put(jobId, new Job(taskCount, onTaskFailure));
    for (int seq = 0; seq < taskCount; seq++) {
      status.put(new Task(jobId, seq), TaskStatus.RUNNING);
      epoch.put(new Task(jobId, seq), leaseEpoch);
    }
  }

  /** A newer claim took the task over (its lease lapsed and it was reclaimed). */
  void reclaimed(UUID jobId, int seq, long newEpoch) {
    epoch.put(new Task(jobId, seq), newEpoch);
  }

  /** The next {@code n} commits fail as if PostgreSQL dropped the connection. */
  void failNext(int n) {
    failures = n;
  }

  TaskStatus status(UUID jobId, int seq) {
    return status.get(new Task(jobId, seq));
  }

  String error(UUID jobId, int seq) {
    return error.get(new Task(jobId, seq));
  }

  JobStatus jobStatus(UUID jobId) {
    return jobs.get(jobId).status;
  }

  @Override
  public Committed commit(List<Completion> batch) {
    batches.add(List.copyOf(batch));
    if (failures > 0) {
      failures--;
      throw new IllegalStateException(new SQLException("connection lost", "08006"));
    }
    for (Completion x : batch) {
      if (hasNul(x.outputJson()) || hasNul(x.error())) {
        throw new IllegalStateException(
            new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", "22P05"));
      }
    }
    List<Completion> applied = new ArrayList<>();
    Map<UUID, int[]> perJob = new TreeMap<>();
    for (Completion x : batch) {
      Task t = new Task(x.jobId(), x.seq());
      if (status.get(t) != TaskStatus.RUNNING || epoch.get(t) != x.leaseEpoch()) {
        continue;
      }
      status.put(t, x.status());
      error.put(t, x.error());
      applied.add(x);
      if (x.isTerminal()) {
        perJob
            .computeIfAbsent(x.jobId(), j -> new int[2])[
            x.status() == TaskStatus.SUCCEEDED ? 0 : 1]++;
      }
    }
    List<Counts> counts = new ArrayList<>();
    List<UUID> failedJobs = new ArrayList<>();
    perJob.forEach(
        (id, n) -> {
          Job job = jobs.get(id);
          job.succeeded += n[0];
          job.failed += n[1];
          counts.add(
              new Counts(
                  id,
                  job.status,
                  job.taskCount,
                  job.succeeded,
                  job.failed,
                  job.onTaskFailure,
                  null));
          if (n[1] > 0 && "fail".equals(job.onTaskFailure) && !job.status.isTerminal()) {
            job.status = JobStatus.FAILED;
            failedJobs.add(id);
          }
        });
    return new Committed(applied, counts, failedJobs);
  }

  private static boolean hasNul(String s) {
    return s != null && s.indexOf('\u0000') >= 0;
  }
}
