package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A validated submission, ready to be stored; {@code labels} and {@code runAt} may be null; {@code
 * stages} is empty for a one-stage job ({@code type} and {@code payload} are its stage's); {@code
 * limits} are its time limits ({@link TimeLimits#NONE} when none were given); {@code callback} is
 * null without one; {@code concurrency} is null when it has no concurrency key.
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
    TimeLimits limits,
    Callback callback,
    ConcurrencyKey concurrency) {

  /**
   * Where a job's terminal state is posted ({@code "callback": {"url", "events"}}), registered in
   * the submission's transaction.
   *
   * @param events of {@code finished} (any terminal state), {@code succeeded}, {@code failed},
   *     {@code cancelled}
   */
  public record Callback(String url, List<String> events) {
    public Callback {
      events = List.copyOf(events);
    }
  }

  public NewJob {
    stages = stages == null ? List.of() : List.copyOf(stages);
    limits = limits == null ? TimeLimits.NONE : limits;
  }

  /** A submission without a callback. */
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
      String onTaskFailure,
      JsonNode labels,
      Instant runAt,
      List<NewStage> stages,
      TimeLimits limits) {
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
        labels,
        runAt,
        stages,
        limits,
        null,
        null);
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
        TimeLimits.NONE,
        null,
        null);
  }
}
