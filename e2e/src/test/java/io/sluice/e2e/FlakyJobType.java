package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;

/**
 * Test job type {@code flaky}: {@code {"tasks": N, "failSeq": s, "failTimes": k}}; task s throws on
 * its first k attempts. The collector lists the failed sequence numbers.
 */
public final class FlakyJobType implements JobType {
  @Override
  public String name() {
    return "flaky";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 10_000, null);
      int failSeq = payload.intField("failSeq", -1, 10_000, -1);
      int failTimes = payload.intField("failTimes", 0, 1000, 0);
      for (int i = 0; i < tasks; i++) {
        sink.accept(Json.object().put("fail", i == failSeq ? failTimes : 0));
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      if (ctx.attempt() <= ctx.input().path("fail").asInt()) {
        throw new IllegalStateException("planned failure on attempt " + ctx.attempt());
      }
      return TaskResult.success(Json.object().put("seq", ctx.seq()));
    };
  }

  @Override
  public Collector collector() {
    return (Payload payload, Collector.Outcomes outcomes) -> {
      var failed = Json.MAPPER.createArrayNode();
      outcomes.forEach(
          o -> {
            if (!o.succeeded()) {
              failed.add(o.seq());
            }
          });
      return Json.object().set("failed", failed);
    };
  }
}
