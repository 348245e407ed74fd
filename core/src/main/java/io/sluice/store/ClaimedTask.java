package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * A task a worker now holds a lease on; {@code leaseEpoch} is the fence its completion must carry.
 * {@code limits} are its job's (its stage's task timeout; no deadline, which the coordinator
 * enforces); {@code lastError} is the error of its previous attempt, or null; {@code traceParent}
 * is the W3C traceparent of its job's (its stage's) span, or null when the job was not traced.
 */
public record ClaimedTask(
    UUID jobId,
    int seq,
    int attempt,
    long leaseEpoch,
    JsonNode input,
    String type,
    int maxAttempts,
    TimeLimits limits,
    String lastError,
    String traceParent) {

  public ClaimedTask {
    limits = limits == null ? TimeLimits.NONE : limits;
  }

  /** A claim of a job that was not traced. */
  public ClaimedTask(
      UUID jobId,
      int seq,
      int attempt,
      long leaseEpoch,
      JsonNode input,
      String type,
      int maxAttempts,
      TimeLimits limits,
      String lastError) {
    this(jobId, seq, attempt, leaseEpoch, input, type, maxAttempts, limits, lastError, null);
  }

  /** A claim of a job without time limits. */
  public ClaimedTask(
      UUID jobId,
      int seq,
      int attempt,
      long leaseEpoch,
      JsonNode input,
      String type,
      int maxAttempts) {
    this(jobId, seq, attempt, leaseEpoch, input, type, maxAttempts, TimeLimits.NONE, null, null);
  }

  public TaskRef ref() {
    return new TaskRef(jobId, seq);
  }
}
