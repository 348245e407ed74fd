package io.sluice.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskContext;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test job type {@code probe}: {@code {"tasks": N, "holdMs": d?, "hold": bool?, "reports": r?,
 * "group": g?}}. Each task makes r progress reports, then sleeps d ms or, with {@code hold}, waits
 * until the test {@link #release releases} its job, stopping early when told to stop. What handlers
 * and the collector did is recorded in static state (the workers run in the test's JVM), by job and
 * type, and by {@code "group:" + g} for the tasks of every job of group g.
 */
public class ProbeJobType implements JobType {
  static final Map<UUID, CountDownLatch> RELEASES = new ConcurrentHashMap<>();
  static final Map<UUID, Set<Integer>> STARTED = new ConcurrentHashMap<>();
  static final Map<UUID, Set<Integer>> SAW_CANCEL = new ConcurrentHashMap<>();
  static final Set<UUID> COLLECTED = ConcurrentHashMap.newKeySet();
  static final Map<Object, AtomicInteger> RUNNING = new ConcurrentHashMap<>();
  static final Map<Object, AtomicInteger> MAX_RUNNING = new ConcurrentHashMap<>();
  static final List<String> START_ORDER = new CopyOnWriteArrayList<>();

  /** Lets every held task of the job finish. */
  static void release(UUID job) {
    latch(job).countDown();
  }

  static Set<Integer> started(UUID job) {
    return STARTED.computeIfAbsent(job, j -> ConcurrentHashMap.newKeySet());
  }

  static Set<Integer> sawCancel(UUID job) {
    return SAW_CANCEL.computeIfAbsent(job, j -> ConcurrentHashMap.newKeySet());
  }

  /** The most tasks of a job (a UUID) or of a job type (its name) that ran at once. */
  static int maxRunning(Object jobOrType) {
    return MAX_RUNNING.computeIfAbsent(jobOrType, k -> new AtomicInteger()).get();
  }

  private static CountDownLatch latch(UUID job) {
    return RELEASES.computeIfAbsent(job, j -> new CountDownLatch(1));
  }

  @Override
  public String name() {
    return "probe";
  }

  @Override
  public void validate(Payload payload) {
    payload.intField("tasks", 1, 10_000, null);
    payload.intField("holdMs", 0, 60_000, 0);
    payload.intField("reports", 0, 100_000, 0);
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 10_000, null);
      var input =
          Json.object()
              .put("tasks", tasks)
              .put("holdMs", payload.intField("holdMs", 0, 60_000, 0))
              .put("hold", payload.json().path("hold").asBoolean(false))
              .put("reports", payload.intField("reports", 0, 100_000, 0))
              .put("group", payload.json().path("group").asText(""));
      for (int i = 0; i < tasks; i++) {
        sink.accept(input);
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      UUID job = ctx.jobId();
      START_ORDER.add(job + ":" + ctx.seq());
      started(job).add(ctx.seq());
      String group = ctx.input().path("group").asText("");
      enter(job);
      enter(name());
      if (!group.isEmpty()) {
        enter("group:" + group);
      }
      try {
        report(ctx);
        hold(ctx);
        return TaskResult.success(Json.object().put("seq", ctx.seq()).put("job", job.toString()));
      } finally {
        if (!group.isEmpty()) {
          RUNNING.get("group:" + group).decrementAndGet();
        }
        RUNNING.get(job).decrementAndGet();
        RUNNING.get(name()).decrementAndGet();
      }
    };
  }

  private static void enter(Object key) {
    int now = RUNNING.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    MAX_RUNNING.computeIfAbsent(key, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
  }

  /** Reports rising to (seq + 1) / (tasks + 1), in phase "phase-(seq mod 3)". */
  private static void report(TaskContext ctx) {
    JsonNode in = ctx.input();
    int reports = in.path("reports").asInt();
    double last = (ctx.seq() + 1.0) / (in.path("tasks").asInt() + 1.0);
    for (int i = 1; i <= reports; i++) {
      ctx.reportProgress(
          "phase-" + (ctx.seq() % 3), last * i / reports, "task " + ctx.seq() + " report " + i);
    }
  }

  private static void hold(TaskContext ctx) throws InterruptedException {
    long holdMs = ctx.input().path("holdMs").asLong();
    boolean held = ctx.input().path("hold").asBoolean();
    long deadline = System.nanoTime() + holdMs * 1_000_000;
    CountDownLatch release = latch(ctx.jobId());
    while (!ctx.isCancelled()) {
      if (held ? release.getCount() == 0 : System.nanoTime() >= deadline) {
        return;
      }
      Thread.sleep(held ? 2 : Math.max(1, Math.min(5, holdMs)));
    }
    sawCancel(ctx.jobId()).add(ctx.seq());
  }

  @Override
  public Collector collector() {
    return (Payload payload, Collector.Outcomes outcomes) -> {
      long[] finished = new long[1];
      outcomes.forEach(
          o -> {
            finished[0]++;
            if (o.output() != null && o.output().has("job")) {
              COLLECTED.add(UUID.fromString(o.output().get("job").asText()));
            }
          });
      return Json.object().put("finished", finished[0]);
    };
  }
}
