package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;

/** A job submission as the API received it, after syntax checks. */
public record SubmitRequest(
    String type,
    String queue,
    JsonNode payload,
    String idempotencyKey,
    int priority,
    int maxAttempts,
    String onTaskFailure) {}
