package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A validated submission, ready to be stored; {@code labels} and {@code runAt} may be null; {@code
 * stages} is empty for a one-stage job ({@code type} and {@code payload} are its stage's); {@code
 * limits} are its time limits ({@link TimeLimits#NONE} when none were given).
 */
public record NewJob(
    UUID id,
    String tenant,
    String type,
    String queue,
    JsonNode payload,
    String idempotencyKey,
    String requestHash,
    int priority,
    int maxAttempts,
    String onTaskFailure,
    JsonNode labels,
    Instant runAt,
    List<NewStage> stages,
    TimeLimits limits) {

  public NewJob {
    stages = stages == null ? List.of() : List.copyOf(stages);
    limits = limits == null ? TimeLimits.NONE : limits;
  }

  /** Whether this submission is a pipeline of stages, in topological order. */
  public boolean isPipeline() {
    return !stages.isEmpty();
  }

  /** A submission without labels or a delayed start. */
  public NewJob(
      UUID id,
      String tenant,
      String type,
      String queue,
      JsonNode payload,
      String idempotencyKey,
      String requestHash,
      int priority,
      int maxAttempts,
      String onTaskFailure) {
    this(
        id,
        tenant,
        type,
        queue,
        payload,
        idempotencyKey,
        requestHash,
        priority,
        maxAttempts,
        onTaskFailure,
        null,
        null,
        List.of(),
        TimeLimits.NONE);
  }
}
