package io.sluice.coordinator;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code counting}, a test job type: payload {@code {"tasks": N, "key": "..."}}. Its collector
 * counts how often it ran for each key and returns {@code {"n": runs, "succeeded": tasks}}, so a
 * test sees a collector that ran twice. Registered in the test resources' {@code
 * META-INF/services}.
 */
public final class CountingJobType implements JobType {
  /** Collector runs per payload {@code key}. */
  static final Map<String, AtomicInteger> RUNS = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "counting";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 1000, null);
      for (int i = 0; i < tasks; i++) {
        sink.accept(Json.object());
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> TaskResult.success(null);
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> {
      int n = RUNS.computeIfAbsent(key(payload), k -> new AtomicInteger()).incrementAndGet();
      int[] succeeded = {0};
      outcomes.forEach(o -> succeeded[0] += o.succeeded() ? 1 : 0);
      return Json.object().put("n", n).put("succeeded", succeeded[0]);
    };
  }

  static int runs(String key) {
    AtomicInteger n = RUNS.get(key);
    return n == null ? 0 : n.get();
  }

  private static String key(Payload payload) {
    return payload.stringField("key");
  }
}
