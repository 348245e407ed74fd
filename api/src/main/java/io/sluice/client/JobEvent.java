package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One server-sent event of {@code GET /api/v1/jobs/{id}/events}.
 *
 * @param kind {@code state} (the job's status, counts and progress: first, and on each status
 *     change), {@code progress} (the same, when counts or progress changed), {@code stage} (a
 *     pipeline stage's name, status and counts) or {@code end} (the job's terminal state, last)
 * @param id the event's id within its stream; a reconnected stream starts again at 1
 * @param data the event's JSON
 */
public record JobEvent(String kind, long id, JsonNode data) {}
