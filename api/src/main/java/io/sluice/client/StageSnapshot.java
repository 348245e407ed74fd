package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One stage of a job as {@code GET /api/v1/jobs/{id}} returned it in {@code stages}: {@code name,
 * type, queue, status, dependsOn, taskCount, tasksSucceeded, tasksFailed, progress, result, error,
 * startedAt, finishedAt}. Status is one of WAITING, RUNNING, COLLECTING, SUCCEEDED, FAILED,
 * CANCELLED.
 *
 * @param json the stage as the server sent it
 */
public record StageSnapshot(JsonNode json) {
  private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  public String name() {
    return json.path("name").asText();
  }

  public String type() {
    return json.path("type").asText();
  }

  public String queue() {
    return json.path("queue").asText();
  }

  public String status() {
    return json.path("status").asText();
  }

  /** Whether the stage has finished, either way. */
  public boolean terminal() {
    return TERMINAL.contains(status());
  }

  /** The names of the stages it waits for; empty for a first stage. */
  public List<String> dependsOn() {
    List<String> names = new ArrayList<>();
    json.path("dependsOn").forEach(n -> names.add(n.asText()));
    return names;
  }

  /** Its tasks, 0 while it waits to be split. */
  public int taskCount() {
    return json.path("taskCount").asInt(0);
  }

  public int tasksSucceeded() {
    return json.path("tasksSucceeded").asInt(0);
  }

  public int tasksFailed() {
    return json.path("tasksFailed").asInt(0);
  }

  /** Tasks that finished either way. */
  public int tasksFinished() {
    return tasksSucceeded() + tasksFailed();
  }

  /** The server's progress fraction, 0–1. */
  public double progress() {
    return json.path("progress").asDouble(0);
  }

  /** Its collected result; a missing or null node until it succeeds. */
  public JsonNode result() {
    return json.path("result");
  }

  /** Why it failed, or null. */
  public String error() {
    JsonNode error = json.path("error");
    return error.isMissingNode() || error.isNull()
        ? null
        : error.isTextual() ? error.asText() : error.toString();
  }

  /** When it was split, or null while it waits. */
  public Instant startedAt() {
    return instant("startedAt");
  }

  /** When it reached its terminal status, or null. */
  public Instant finishedAt() {
    return instant("finishedAt");
  }

  private Instant instant(String field) {
    JsonNode value = json.path(field);
    return value.isTextual() ? Instant.parse(value.asText()) : null;
  }
}
