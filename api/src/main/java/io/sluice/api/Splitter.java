package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Splits a validated payload into task inputs. Inputs are handed to the sink one at a time and
 * streamed to PostgreSQL, so a job of a million tasks never holds a million objects in memory.
 */
@FunctionalInterface
public interface Splitter {
  void split(Payload payload, TaskSink sink) throws Exception;

  /**
   * Splits the payload of a stage, seeing the results of the stages it depends on ({@link
   * Stage#dependencyResults()}). The default ignores them; override it for a stage whose tasks come
   * from its dependencies' results (dynamic fan-out). Coordinators always call this one.
   */
  default void split(Stage stage, Payload payload, TaskSink sink) throws Exception {
    split(payload, sink);
  }

  /** Receives task inputs in order; the first is task 0. */
  @FunctionalInterface
  interface TaskSink {
    void accept(JsonNode input);
  }
}
