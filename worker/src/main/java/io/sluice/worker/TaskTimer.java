package io.sluice.worker;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Tells a handler to stop when its attempt has run for its job's task timeout. The timer starts
 * when the handler's thread takes the claim, after the claim's {@code now()} in PostgreSQL, so it
 * never fires before the attempt's timeout on PostgreSQL's clock; the leader's sweep fails an
 * attempt whose worker does not act on it (see {@code TimeLimitSweep}).
 */
@FunctionalInterface
interface TaskTimer {
  /** No timer: tasks run until they return (tests, or jobs without a timeout). */
  TaskTimer NONE = task -> () -> {};

  /** Starts the task's timer if its job has a timeout; the returned action cancels it. */
  Runnable start(RunningTask task);

  /** One daemon thread for every timer of a worker; a cancelled timer leaves its queue at once. */
  static ScheduledExecutorService scheduler() {
    ScheduledThreadPoolExecutor scheduler =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "sluice-task-timeouts");
              t.setDaemon(true);
              return t;
            });
    scheduler.setRemoveOnCancelPolicy(true);
    return scheduler;
  }

  /** Timers run on {@code scheduler}. */
  static TaskTimer on(ScheduledExecutorService scheduler) {
    return task -> {
      Duration timeout = task.claim.limits().taskTimeout();
      if (timeout == null) {
        return () -> {};
      }
      ScheduledFuture<?> fired =
          scheduler.schedule(task::timeOut, timeout.toMillis(), TimeUnit.MILLISECONDS);
      return () -> fired.cancel(false);
    };
  }
}
