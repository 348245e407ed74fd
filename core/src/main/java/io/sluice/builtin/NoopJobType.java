package io.sluice.builtin;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.time.Duration;

/**
 * {@code noop}: payload {@code {"tasks": N, "taskDelayMs": d?}}; N tasks that do nothing but wait d
 * ms. The collector reports how many succeeded. Used by benchmarks and fault tests. A task told to
 * stop never reports success.
 */
public final class NoopJobType implements JobType {
  public static final int MAX_TASKS = 1_000_000;
  private static final int MAX_DELAY_MS = 600_000;

  @Override
  public String name() {
    return "noop";
  }

  @Override
  public void validate(Payload payload) {
    payload.intField("tasks", 1, MAX_TASKS, null);
    payload.intField("taskDelayMs", 0, MAX_DELAY_MS, 0);
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, MAX_TASKS, null);
      int delay = payload.intField("taskDelayMs", 0, MAX_DELAY_MS, 0);
      var input = delay == 0 ? Json.object() : Json.object().put("d", delay);
      for (int i = 0; i < tasks; i++) {
        sink.accept(input);
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      long delay = ctx.input().path("d").asLong(0);
      long deadline = System.nanoTime() + delay * 1_000_000;
      while (delay > 0 && System.nanoTime() < deadline && !ctx.isCancelled()) {
        Thread.sleep(Math.min(delay, 50));
      }
      if (ctx.isCancelled()) {
        // Cut short: claiming success would report work that was not done.
        return TaskResult.retryAfter(Duration.ZERO, "told to stop before its " + delay + " ms");
      }
      return TaskResult.success(null);
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> {
      long[] counts = new long[2];
      outcomes.forEach(o -> counts[o.succeeded() ? 0 : 1]++);
      return Json.object().put("succeeded", counts[0]).put("failed", counts[1]);
    };
  }
}
