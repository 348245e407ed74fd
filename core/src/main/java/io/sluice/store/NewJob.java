package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.UUID;

/** A validated submission, ready to be stored; {@code labels} and {@code runAt} may be null. */
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
    Instant runAt) {

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
        null);
  }
}
