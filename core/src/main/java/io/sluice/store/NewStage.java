package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;

/**
 * A validated stage of a pipeline submission: its name (unique in the job), type, payload, the
 * names of the stages it depends on, its queue, its task-failure policy and its task timeout (its
 * own or the job's; null: none).
 */
public record NewStage(
    String name,
    String type,
    JsonNode payload,
    List<String> dependsOn,
    String queue,
    String onTaskFailure,
    Duration taskTimeout) {
  public NewStage {
    dependsOn = List.copyOf(dependsOn);
  }

  /** A stage without a task timeout. */
  public NewStage(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String policy) {
    this(name, type, payload, dependsOn, queue, policy, null);
  }
}
