package io.sluice.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code merge}: payload {@code {"top"?: n}} (1–1000, default 10). A pipeline stage that joins the
 * {@code counts} of every stage it depends on (each a {@code wordcount} with {@code "counts":
 * true}): one task per dependency, in name order, and a result of wordcount's shape ({@code
 * totalWords}, {@code distinctWords}, {@code top}, {@code counts}). Without dependencies it has no
 * tasks and counts nothing.
 */
public final class MergeJobType implements JobType {
  private static final int DEFAULT_TOP = 10;
  private static final int MAX_TOP = 1000;

  @Override
  public String name() {
    return "merge";
  }

  @Override
  public void validate(Payload payload) {
    top(payload);
  }

  private static int top(Payload payload) {
    return payload.intField("top", 1, MAX_TOP, DEFAULT_TOP);
  }

  @Override
  public Splitter splitter() {
    return new Splitter() {
      @Override
      public void split(Payload payload, TaskSink sink) {
        // Outside a pipeline there is nothing to merge.
      }

      @Override
      public void split(Stage stage, Payload payload, TaskSink sink) {
        for (Map.Entry<String, JsonNode> dependency :
            new TreeMap<>(stage.dependencyResults()).entrySet()) {
          JsonNode counts =
              dependency.getValue() == null ? null : dependency.getValue().get("counts");
          if (counts == null || !counts.isObject()) {
            throw new InvalidPayloadException(
                "dependsOn",
                "names stage \""
                    + dependency.getKey()
                    + "\", whose result has no \"counts\" object: give that wordcount stage"
                    + " \"counts\": true in its payload");
          }
          var input = Json.object().put("stage", dependency.getKey());
          input.set("counts", counts);
          sink.accept(input);
        }
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      var output = Json.object();
      output.set("counts", ctx.input().path("counts"));
      return TaskResult.success(output);
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) ->
        WordCounts.collect(outcomes, output -> output.path("counts"), top(payload), true);
  }
}
