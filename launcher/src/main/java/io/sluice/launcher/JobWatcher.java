package io.sluice.launcher;

import java.time.Duration;

/** Polls a job until it reaches a terminal state, drawing a progress bar. */
final class JobWatcher {
  private JobWatcher() {}

  /**
   * @param first the job as last seen, e.g. the submit answer
   * @return the job in its terminal state
   * @throws LauncherException if it is not terminal within {@code timeout}
   */
  static JobView watch(
      ApiClient api, JobView first, ProgressBar bar, Duration interval, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    JobView job = first;
    try {
      bar.update(job);
      while (!job.terminal()) {
        if (System.nanoTime() > deadline) {
          throw new LauncherException(
              LauncherException.FAILED,
              "job "
                  + job.id()
                  + " is still "
                  + job.status()
                  + " after "
                  + timeout.toSeconds()
                  + " s ("
                  + job.finished()
                  + "/"
                  + job.taskCount()
                  + " tasks finished)");
        }
        LocalStack.sleep(interval);
        job = api.job(job.id());
        bar.update(job);
      }
      return job;
    } finally {
      bar.finish();
    }
  }
}
