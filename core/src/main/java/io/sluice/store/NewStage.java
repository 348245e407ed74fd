package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A validated stage of a pipeline submission: its name (unique in the job), type, payload, the
 * names of the stages it depends on, its queue and its task-failure policy.
 */
public record NewStage(
    String name,
    String type,
    JsonNode payload,
    List<String> dependsOn,
    String queue,
    String onTaskFailure) {
  public NewStage {
    dependsOn = List.copyOf(dependsOn);
  }
}
