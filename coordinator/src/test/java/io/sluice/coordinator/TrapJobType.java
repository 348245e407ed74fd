package io.sluice.coordinator;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code trap}, a test job type whose collector misbehaves: payload {@code {"tasks": N, "key":
 * "...", "collector": "stack-overflow" | "slow", "slowMs": n}}. It counts its runs per key, then
 * recurses until the stack overflows (a real {@link StackOverflowError}) or sleeps {@code slowMs}
 * before returning {@code {"runs": n}}. Registered in the test resources' {@code
 * META-INF/services}.
 */
public final class TrapJobType implements JobType {
  static final Map<String, AtomicInteger> RUNS = new ConcurrentHashMap<>();

  @Override
  public String name() {
    return "trap";
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      for (int i = 0; i < payload.intField("tasks", 1, 1000, null); i++) {
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
      int n =
          RUNS.computeIfAbsent(payload.stringField("key"), k -> new AtomicInteger())
              .incrementAndGet();
      switch (payload.stringField("collector")) {
        case "stack-overflow" -> recurse(0);
        case "slow" -> Thread.sleep(payload.intField("slowMs", 0, 600_000, 0));
        default -> throw new IllegalArgumentException("unknown trap");
      }
      return Json.object().put("runs", n);
    };
  }

  static int runs(String key) {
    AtomicInteger n = RUNS.get(key);
    return n == null ? 0 : n.get();
  }

  private static int recurse(int depth) {
    return recurse(depth + 1) + 1;
  }
}
