package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;

/**
 * Test job type {@code poison}: {@code {"tasks": N, "poisonSeq": s}}; running task s halts the
 * worker JVM, every time. The others wait 50 ms and succeed.
 */
public final class PoisonJobType implements JobType {
  @Override
  public String name() {
    return "poison";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 10_000, null);
      int poison = payload.intField("poisonSeq", 0, 10_000, null);
      for (int i = 0; i < tasks; i++) {
        sink.accept(Json.object().put("poison", i == poison));
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      if (ctx.input().path("poison").asBoolean()) {
        Runtime.getRuntime().halt(99);
      }
      Thread.sleep(50);
      return TaskResult.success(null);
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> Json.object();
  }
}
