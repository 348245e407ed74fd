package io.sluice.launcher;

import io.sluice.client.SluiceClient;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Polls a job until it reaches a terminal state, drawing a progress bar. Gives up when the job is
 * not terminal within the time limit, or when it shows no progress (same status and finished count,
 * of the job and of each stage) for the stall limit, so a stuck system ends in a message rather
 * than a hang.
 */
final class JobWatcher {
  private final SluiceClient api;
  private final ProgressBar bar;
  private final Duration interval;
  private final Duration timeout;
  private final Duration stallLimit;

  /**
   * @param interval time between polls
   * @param timeout the longest the job may take
   * @param stallLimit the longest the job may show no progress
   */
  JobWatcher(
      SluiceClient api, ProgressBar bar, Duration interval, Duration timeout, Duration stallLimit) {
    this.api = api;
    this.bar = bar;
    this.interval = interval;
    this.timeout = timeout;
    this.stallLimit = stallLimit;
  }

  /**
   * @param first the job as last seen, e.g. the submit answer
   * @param onPoll sees every polled state, e.g. to record progress over time
   * @return the job in its terminal state
   * @throws LauncherException if the job times out or stalls
   */
  JobView watch(JobView first, Consumer<JobView> onPoll) {
    long start = System.nanoTime();
    long lastChange = start;
    // A submit's answer has no stages (only a read has): read the job once so that a pipeline's
    // first drawing is already one bar per stage.
    JobView job = first.json().has("stages") ? first : poll(first.id());
    try {
      bar.update(job);
      while (!job.terminal()) {
        long now = System.nanoTime();
        if (now - start > timeout.toNanos()) {
          throw stuck(job, "is not finished after " + timeout.toSeconds() + " s");
        }
        if (now - lastChange > stallLimit.toNanos()) {
          throw stuck(job, "made no progress for " + stallLimit.toSeconds() + " s");
        }
        LocalStack.sleep(interval);
        JobView next = poll(job.id());
        onPoll.accept(next);
        if (!next.progressSignature().equals(job.progressSignature())) {
          lastChange = System.nanoTime();
        }
        job = next;
        bar.update(job);
      }
      return job;
    } finally {
      bar.finish();
    }
  }

  private JobView poll(String id) {
    return new JobView(CliClient.call(api, () -> api.get(id)).json());
  }

  private static LauncherException stuck(JobView job, String what) {
    return new LauncherException(
        LauncherException.FAILED,
        "job "
            + job.id()
            + " "
            + what
            + " ("
            + job.status()
            + ", "
            + job.finished()
            + "/"
            + job.taskCount()
            + " tasks finished); the coordinator and worker logs say why");
  }
}
