package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/** A validated submission, ready to be stored. */
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
    String onTaskFailure) {}
