package io.sluice.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.time.Duration;
import java.util.BitSet;

/**
 * {@code noop}: payload {@code {"tasks": N, "taskDelayMs": d?, "fail": [seq, ...]?}}; N tasks that
 * do nothing but wait d ms, except that the tasks numbered in {@code fail} fail at once without
 * retry (for testing failure paths). The collector reports how many succeeded. Used by benchmarks
 * and fault tests. A task told to stop never reports success.
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
    failing(payload, payload.intField("tasks", 1, MAX_TASKS, null));
    payload.intField("taskDelayMs", 0, MAX_DELAY_MS, 0);
  }

  /** The task numbers of {@code fail}: an array of distinct integers from 0 to tasks - 1. */
  private static BitSet failing(Payload payload, int tasks) {
    BitSet failing = new BitSet();
    JsonNode fail = payload.json().get("fail");
    if (fail == null || fail.isNull()) {
      return failing;
    }
    if (!fail.isArray()) {
      throw new InvalidPayloadException("fail", "must be an array of task numbers");
    }
    for (JsonNode seq : fail) {
      if (!seq.isInt() || seq.intValue() < 0 || seq.intValue() >= tasks) {
        throw new InvalidPayloadException(
            "fail", "must hold task numbers from 0 to " + (tasks - 1) + ", got " + seq);
      }
      if (failing.get(seq.intValue())) {
        throw new InvalidPayloadException("fail", "names task " + seq + " twice");
      }
      failing.set(seq.intValue());
    }
    return failing;
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, MAX_TASKS, null);
      int delay = payload.intField("taskDelayMs", 0, MAX_DELAY_MS, 0);
      BitSet failing = failing(payload, tasks);
      var input = delay == 0 ? Json.object() : Json.object().put("d", delay);
      var failInput = Json.object().put("fail", true);
      for (int i = 0; i < tasks; i++) {
        sink.accept(failing.get(i) ? failInput : input);
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      if (ctx.input().path("fail").asBoolean(false)) {
        return TaskResult.fail("task " + ctx.seq() + " is listed in the payload's \"fail\"");
      }
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
