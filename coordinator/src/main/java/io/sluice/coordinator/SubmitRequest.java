package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.store.NewJob;
import java.time.Instant;
import java.util.List;

/**
 * A job submission as the API received it, after syntax checks; {@code labels}, {@code runAt} and
 * {@code callback} may be null; {@code stages} is null for a one-stage job, whose {@code type} and
 * {@code payload} are then set (both are null for a pipeline).
 */
public record SubmitRequest(
    String type,
    String queue,
    JsonNode payload,
    String idempotencyKey,
    int priority,
    int maxAttempts,
    String onTaskFailure,
    ObjectNode labels,
    Instant runAt,
    List<StageRequest> stages,
    NewJob.Callback callback) {

  /** A submission without a callback. */
  public SubmitRequest(
      String type,
      String queue,
      JsonNode payload,
      String idempotencyKey,
      int priority,
      int maxAttempts,
      String onTaskFailure,
      ObjectNode labels,
      Instant runAt,
      List<StageRequest> stages) {
    this(
        type,
        queue,
        payload,
        idempotencyKey,
        priority,
        maxAttempts,
        onTaskFailure,
        labels,
        runAt,
        stages,
        null);
  }

  /** A stage of a pipeline submission, after syntax checks; {@code queue} and policy resolved. */
  public record StageRequest(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String onTaskFailure) {}

  /** Whether this is a pipeline ({@code stages}) rather than a one-stage job. */
  public boolean isPipeline() {
    return stages != null;
  }
}
