package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Consumer;

/**
 * Merges a stage's task outcomes into its result (a one-stage job's result is its stage's). Runs on
 * a coordinator once all tasks are finished.
 */
@FunctionalInterface
public interface Collector {

  JsonNode collect(Payload payload, Outcomes outcomes) throws Exception;

  /**
   * Collects the outcomes of one stage's tasks, knowing the stage. The default ignores it.
   * Coordinators always call this one.
   */
  default JsonNode collect(Stage stage, Payload payload, Outcomes outcomes) throws Exception {
    return collect(payload, outcomes);
  }

  /** Streams the job's task outcomes in sequence order; never holds them all in memory. */
  @FunctionalInterface
  interface Outcomes {
    void forEach(Consumer<TaskOutcome> action);
  }

  /** One finished task: its output when it succeeded, its error when it failed. */
  record TaskOutcome(int seq, boolean succeeded, JsonNode output, String error) {}
}
