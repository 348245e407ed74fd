package io.sluice.coordinator;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.store.NewJob;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A job submission as the API received it, after syntax checks; {@code labels}, {@code runAt} and
 * {@code callback} may be null; {@code stages} is null for a one-stage job, whose {@code type} and
 * {@code payload} are then set (both are null for a pipeline); {@code limits} are its time limits,
 * never null; {@code concurrencyKey} is null without one, and {@code concurrencyLimit} null when
 * the key takes the coordinator's default ({@code SLUICE_KEY_MAX_CONCURRENCY}).
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
    TimeLimits limits,
    NewJob.Callback callback,
    String concurrencyKey,
    Integer concurrencyLimit) {

  /**
   * A stage of a pipeline submission, after syntax checks; {@code queue} and policy resolved;
   * {@code taskTimeout} is the stage's own, null when it gives none (the job's then applies);
   * {@code callback} is the stage's own webhook, null when none. Null fields are left out of its
   * JSON, so a request without them hashes as it always did.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record StageRequest(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String onTaskFailure,
      Duration taskTimeout,
      NewJob.Callback callback) {}

  /** Whether this is a pipeline ({@code stages}) rather than a one-stage job. */
  public boolean isPipeline() {
    return stages != null;
  }
}
