package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * A job submission as the API received it, after syntax checks; {@code labels} and {@code runAt}
 * may be null.
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
    Instant runAt) {}
