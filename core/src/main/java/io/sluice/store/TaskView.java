package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** A task as the API shows it; {@code phase} and {@code message} are its latest progress report. */
public record TaskView(
    int seq,
    TaskStatus status,
    int attempt,
    String workerId,
    double progress,
    JsonNode output,
    String error,
    Instant startedAt,
    Instant finishedAt,
    String phase,
    String message) {}
