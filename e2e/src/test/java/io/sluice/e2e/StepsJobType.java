package io.sluice.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test job type {@code steps} for worker processes: {@code {"tasks": N, "steps": S, "stepMs": d,
 * "gate": path?, "gateSeq": n?}}. Each task does S steps of d ms and returns {@code {"steps":
 * done}}; it honours cancellation by stopping at once and returning what it did, so a cut-short
 * task shows as {@code steps < S}. With a gate, no step starts before the file {@code gate} exists
 * (a task that outlives any drain grace until the test opens it); with {@code gateSeq} only that
 * task waits for it. The collector adds the steps up: {@code {"totalSteps", "tasks",
 * "shortTasks"}}, exact only when every task committed all its steps once.
 */
public class StepsJobType implements JobType {

  @Override
  public String name() {
    return "steps";
  }

  @Override
  public void validate(Payload payload) {
    payload.intField("tasks", 1, 10_000, null);
    payload.intField("steps", 1, 10_000, null);
    payload.intField("stepMs", 0, 60_000, 0);
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      ObjectNode input =
          Json.object()
              .put("steps", payload.intField("steps", 1, 10_000, null))
              .put("stepMs", payload.intField("stepMs", 0, 60_000, 0));
      if (payload.json().hasNonNull("gate")) {
        input.put("gate", payload.json().get("gate").asText());
        input.put("gateSeq", payload.json().path("gateSeq").asInt(-1));
      }
      for (int i = payload.intField("tasks", 1, 10_000, null); i > 0; i--) {
        sink.accept(input);
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      int steps = ctx.input().path("steps").asInt();
      long stepMs = ctx.input().path("stepMs").asLong();
      int gateSeq = ctx.input().path("gateSeq").asInt(-1);
      Path gate =
          ctx.input().hasNonNull("gate") && (gateSeq < 0 || gateSeq == ctx.seq())
              ? Path.of(ctx.input().get("gate").asText())
              : null;
      int done = 0;
      while (done < steps && !ctx.isCancelled()) {
        if (gate != null && !Files.exists(gate)) {
          Thread.sleep(20);
          continue;
        }
        Thread.sleep(stepMs);
        done++;
      }
      return TaskResult.success(Json.object().put("steps", done).put("of", steps));
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> {
      long[] sums = new long[3];
      outcomes.forEach(
          o -> {
            if (o.succeeded()) {
              sums[0] += o.output().path("steps").asLong();
              sums[1]++;
              if (o.output().path("steps").asLong() < o.output().path("of").asLong()) {
                sums[2]++;
              }
            }
          });
      return Json.object()
          .put("totalSteps", sums[0])
          .put("tasks", sums[1])
          .put("shortTasks", sums[2]);
    };
  }
}
