package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/** What a handler knows about the task it runs. */
public interface TaskContext {
  UUID jobId();

  int seq();

  /** The task's input, as the splitter produced it. */
  JsonNode input();

  /** 1 on the first delivery. */
  int attempt();

  int maxAttempts();

  /**
   * The fence token of this claim. It grows with every claim of the task, so it (with the job id
   * and sequence) is a safe idempotency key for side effects outside Sluice.
   */
  long fenceToken();

  /**
   * True once the job was cancelled or this worker lost the task's lease; stop as soon as possible.
   */
  boolean isCancelled();

  /**
   * The W3C {@code traceparent} of this task's run (its span on the worker, a child of its job's
   * span), for a handler to pass on to what it calls (an HTTP header {@code traceparent}, a
   * message's metadata) so their spans join the job's trace; null when tracing is off (no {@code
   * OTEL_EXPORTER_OTLP_ENDPOINT}) or the job was submitted while it was.
   */
  default String traceParent() {
    return null;
  }

  /** Reports progress in [0, 1]; cheap, may be called often. */
  void reportProgress(double fraction);

  /**
   * Reports progress in [0, 1] with a short human-readable message ({@code null} for none). Cheap,
   * may be called often: the worker keeps only the latest report of each task and writes it with
   * the other tasks' in one batched, fenced update.
   */
  default void reportProgress(double fraction, String message) {
    reportProgress(null, fraction, message);
  }

  /**
   * Reports progress in [0, 1] within a named phase (such as {@code "download"} or {@code "parse"};
   * at most 64 characters), with an optional message (at most 500 characters, longer ones are cut).
   * A null phase keeps the current one. A job's progress shows how many of its running tasks are in
   * each phase ({@code phases}); a task shows its {@code phase}. A phase is a label within one
   * task's work, not a pipeline {@link Stage}. Implementations that predate phases record only the
   * fraction.
   */
  default void reportProgress(String phase, double fraction, String message) {
    reportProgress(fraction);
  }
}
