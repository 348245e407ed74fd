package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;

/**
 * A validated stage of a pipeline submission: its name (unique in the job), type, payload, the
 * names of the stages it depends on, its queue, its task-failure policy, its task timeout (its own
 * or the job's; null: none) and the callback its own terminal state is posted to (null: none).
 */
public record NewStage(
    String name,
    String type,
    JsonNode payload,
    List<String> dependsOn,
    String queue,
    String onTaskFailure,
    Duration taskTimeout,
    NewJob.Callback callback) {
  public NewStage {
    dependsOn = List.copyOf(dependsOn);
  }

  /** A stage without a callback. */
  public NewStage(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String onTaskFailure,
      Duration taskTimeout) {
    this(name, type, payload, dependsOn, queue, onTaskFailure, taskTimeout, null);
  }

  /** A stage without a task timeout. */
  public NewStage(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String policy) {
    this(name, type, payload, dependsOn, queue, policy, null, null);
  }
}
