package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.StageSnapshot;
import java.util.ArrayList;
import java.util.List;
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

  /** The job's stages in a topological order; one ({@code main}) unless it is a pipeline. */
  List<StageSnapshot> stages() {
    List<StageSnapshot> stages = new ArrayList<>();
    json.path("stages").forEach(s -> stages.add(new StageSnapshot(s)));
    return stages;
  }

  /** Whether the job has more than one stage, so that each is worth showing. */
  boolean pipeline() {
    return json.path("stages").size() > 1;
  }

  /**
   * What changes when the job moves on: its status, finished tasks, and every stage's status and
   * finished tasks (a stage can start or be collected while the job's counts stay put).
   */
  String progressSignature() {
    StringBuilder s = new StringBuilder(status()).append(' ').append(finished());
    for (StageSnapshot stage : stages()) {
      s.append(' ').append(stage.status()).append(' ').append(stage.tasksFinished());
    }
    return s.toString();
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
