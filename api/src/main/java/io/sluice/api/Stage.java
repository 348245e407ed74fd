package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.UUID;

/**
 * The stage a splitter or collector runs for. A one-stage job has one stage, {@code main}, with no
 * dependencies; a stage of a pipeline sees the result of every stage it depends on, by name, so its
 * splitter may choose its task count from them.
 *
 * @param jobId the job (the pipeline) the stage belongs to
 * @param name the stage's name, unique in its job
 * @param dependencyResults the committed result of each stage this one depends on, by name
 */
public record Stage(UUID jobId, String name, Map<String, JsonNode> dependencyResults) {
  /** The name of a one-stage job's only stage. */
  public static final String MAIN = "main";

  public Stage {
    dependencyResults = Map.copyOf(dependencyResults);
  }

  /** The only stage of a one-stage job. */
  public static Stage main(UUID jobId) {
    return new Stage(jobId, MAIN, Map.of());
  }
}
