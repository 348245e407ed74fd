package io.sluice.api;

/**
 * Runs one task. Called on a worker; may be called more than once for the same task (at least
 * once).
 */
@FunctionalInterface
public interface TaskHandler {
  /**
   * Runs the task. Throw {@link NonRetryableException} for failures a retry cannot fix; any other
   * exception is retried with backoff until the job's {@code maxAttempts} is used up.
   */
  TaskResult handle(TaskContext ctx) throws Exception;
}
