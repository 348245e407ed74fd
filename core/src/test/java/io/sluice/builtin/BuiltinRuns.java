package io.sluice.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector.TaskOutcome;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Stage;
import io.sluice.api.TaskContext;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Runs a built-in type in memory as a coordinator and a worker would: split, handle, collect. */
final class BuiltinRuns {
  private BuiltinRuns() {}

  static Payload payload(String json) {
    return new Payload(Json.read(json));
  }

  /** The JSON as it reads back from storage (numbers as their smallest type). */
  static JsonNode stored(JsonNode json) {
    return Json.read(Json.write(json));
  }

  /** The stage's task inputs, as the splitter emitted them. */
  static List<JsonNode> split(JobType type, Stage stage, Payload payload) throws Exception {
    List<JsonNode> inputs = new ArrayList<>();
    type.splitter().split(stage, payload, inputs::add);
    return inputs;
  }

  /** The stage's result after every task ran once and succeeded. */
  static JsonNode run(JobType type, Stage stage, Payload payload) throws Exception {
    type.validate(payload);
    List<TaskOutcome> outcomes = new ArrayList<>();
    List<JsonNode> inputs = split(type, stage, payload);
    for (int seq = 0; seq < inputs.size(); seq++) {
      TaskResult result = type.handler().handle(context(seq, inputs.get(seq)));
      outcomes.add(new TaskOutcome(seq, true, ((TaskResult.Success) result).output(), null));
    }
    return type.collector().collect(stage, payload, outcomes::forEach);
  }

  /** A stage named {@code name} that sees {@code dependencyResults}. */
  static Stage stage(String name, Map<String, JsonNode> dependencyResults) {
    return new Stage(UUID.randomUUID(), name, dependencyResults);
  }

  /** Task {@code seq}'s first attempt of 3 at {@code input}. */
  static TaskContext context(int seq, JsonNode input) {
    return context(seq, input, false);
  }

  /** As {@link #context(int, JsonNode)}, told to stop when {@code cancelled}. */
  static TaskContext context(int seq, JsonNode input, boolean cancelled) {
    UUID job = UUID.randomUUID();
    return new TaskContext() {
      @Override
      public UUID jobId() {
        return job;
      }

      @Override
      public int seq() {
        return seq;
      }

      @Override
      public JsonNode input() {
        return input;
      }

      @Override
      public int attempt() {
        return 1;
      }

      @Override
      public int maxAttempts() {
        return 3;
      }

      @Override
      public long fenceToken() {
        return 1;
      }

      @Override
      public boolean isCancelled() {
        return cancelled;
      }

      @Override
      public void reportProgress(double fraction) {}
    };
  }
}
