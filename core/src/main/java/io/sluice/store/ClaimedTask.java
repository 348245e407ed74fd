package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * A task a worker now holds a lease on; {@code leaseEpoch} is the fence its completion must carry.
 * {@code limits} are its job's (its stage's task timeout; no deadline, which the coordinator
 * enforces); {@code lastError} is the error of its previous attempt, or null.
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
    String lastError) {

  public ClaimedTask {
    limits = limits == null ? TimeLimits.NONE : limits;
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
    this(jobId, seq, attempt, leaseEpoch, input, type, maxAttempts, TimeLimits.NONE, null);
  }

  public TaskRef ref() {
    return new TaskRef(jobId, seq);
  }
}
