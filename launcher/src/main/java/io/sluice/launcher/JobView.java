package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/** A job as {@code GET /api/v1/jobs/{id}} shows it, with the few fields the launcher reads. */
record JobView(JsonNode json) {
  private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  String id() {
    return json.path("id").asText();
  }

  String status() {
    return json.path("status").asText("?");
  }

  int taskCount() {
    return json.path("taskCount").asInt(0);
  }

  int succeeded() {
    return json.path("tasksSucceeded").asInt(0);
  }

  int failed() {
    return json.path("tasksFailed").asInt(0);
  }

  /** Tasks that finished either way. */
  int finished() {
    return succeeded() + failed();
  }

  JsonNode result() {
    return json.path("result");
  }

  JsonNode error() {
    return json.path("error");
  }

  boolean terminal() {
    return TERMINAL.contains(status());
  }

  boolean succeededJob() {
    return "SUCCEEDED".equals(status());
  }
}
