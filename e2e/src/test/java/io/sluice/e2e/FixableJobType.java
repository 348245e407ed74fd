package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.NonRetryableException;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.builtin.NoopJobType;
import io.sluice.json.Json;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Test job type {@code fixable}: {@code {"tasks": N, "failSeq": s, "taskDelayMs": d?}}; each task
 * waits d ms, and task s then fails for good while {@link #BROKEN} is set, as if it hit a bug, and
 * succeeds once a test clears it (the bug is fixed and the dead-lettered task can be requeued).
 * Works with in-process workers only.
 */
public final class FixableJobType implements JobType {
  /** While true, task {@code failSeq} fails without retry. */
  public static final AtomicBoolean BROKEN = new AtomicBoolean(true);

  @Override
  public String name() {
    return "fixable";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 10_000, null);
      int failSeq = payload.intField("failSeq", -1, 10_000, -1);
      int delay = payload.intField("taskDelayMs", 0, 60_000, 0);
      for (int i = 0; i < tasks; i++) {
        sink.accept(Json.object().put("fail", i == failSeq).put("d", delay));
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      Thread.sleep(ctx.input().path("d").asLong());
      if (ctx.input().path("fail").asBoolean() && BROKEN.get()) {
        throw new NonRetryableException("task " + ctx.seq() + " hit the planted bug");
      }
      return TaskResult.success(Json.object().put("seq", ctx.seq()));
    };
  }

  @Override
  public Collector collector() {
    return new NoopJobType().collector(); // counts succeeded and failed tasks
  }
}
