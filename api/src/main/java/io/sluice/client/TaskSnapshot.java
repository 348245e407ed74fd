package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One task as {@code GET /api/v1/jobs/{id}/tasks} lists it ({@link Page#tasks()}): {@code seq,
 * stage, status, attempt, workerId, progress, output, error}.
 *
 * @param json the task as the server sent it
 */
public record TaskSnapshot(JsonNode json) {

  /** Its number in its stage, from 0. */
  public int seq() {
    return json.path("seq").asInt();
  }

  /** The name of the stage it belongs to; {@code main} in a one-stage job. */
  public String stage() {
    return json.path("stage").asText("main");
  }

  public String status() {
    return json.path("status").asText();
  }

  public int attempt() {
    return json.path("attempt").asInt();
  }

  /** Its output; a missing or null node unless it succeeded. */
  public JsonNode output() {
    return json.path("output");
  }
}
