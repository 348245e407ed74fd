package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.time.Duration;

/**
 * Test job type {@code traced}: {@code {"tasks": N}}; each task fails its first attempt and on the
 * second returns {@code {"traceParent": ctx.traceParent()}}, what a handler would pass on to the
 * services it calls. The collector counts the tasks.
 */
public final class TracedJobType implements JobType {
  @Override
  public String name() {
    return "traced";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      for (int i = payload.intField("tasks", 1, 100, null); i > 0; i--) {
        sink.accept(Json.object());
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      if (ctx.attempt() == 1) {
        return TaskResult.retryAfter(Duration.ZERO, "the first attempt fails, by plan");
      }
      return TaskResult.success(Json.object().put("traceParent", ctx.traceParent()));
    };
  }

  @Override
  public Collector collector() {
    return (Payload payload, Collector.Outcomes outcomes) -> {
      int[] n = {0};
      outcomes.forEach(o -> n[0]++);
      return Json.object().put("tasks", n[0]);
    };
  }
}
