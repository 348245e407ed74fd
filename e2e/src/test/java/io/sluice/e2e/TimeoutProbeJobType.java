package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskContext;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * Test job type {@code timeout-probe}: {@code {"tasks": N, "ignoreFirst": bool?}}. Without {@code
 * ignoreFirst} every attempt waits until it is told to stop and then claims success, cut short.
 * With it, a task's first attempt ignores the stop and returns success only once the test {@link
 * #releaseLate releases} it, while later attempts wait for {@link #finish}. Each output names its
 * attempt; each attempt's start is recorded by its claim's {@code started_at} in PostgreSQL.
 */
public class TimeoutProbeJobType implements JobType {
  /** Opens a connection to the test's database: set by the test before it submits. */
  static volatile Db db;

  /** Attempt starts by job and seq: the claim's started_at in PostgreSQL, epoch millis. */
  static final Map<String, List<Long>> STARTS = new ConcurrentHashMap<>();

  static final Map<String, List<Integer>> SAW_STOP = new ConcurrentHashMap<>();
  private static final Map<UUID, CountDownLatch> LATE = new ConcurrentHashMap<>();
  private static final Map<UUID, CountDownLatch> FINISH = new ConcurrentHashMap<>();

  /** A database connection, as {@code TestEnvironment#connect}. */
  @FunctionalInterface
  interface Db {
    Connection connect() throws SQLException;
  }

  static List<Long> starts(UUID job, int seq) {
    return STARTS.computeIfAbsent(job + ":" + seq, k -> new CopyOnWriteArrayList<>());
  }

  static List<Integer> sawStop(UUID job, int seq) {
    return SAW_STOP.computeIfAbsent(job + ":" + seq, k -> new CopyOnWriteArrayList<>());
  }

  /** Lets the first attempts of the job (which ignored their stop) return. */
  static void releaseLate(UUID job) {
    latch(LATE, job).countDown();
  }

  /** Lets the later attempts of the job return. */
  static void finish(UUID job) {
    latch(FINISH, job).countDown();
  }

  private static CountDownLatch latch(Map<UUID, CountDownLatch> latches, UUID job) {
    return latches.computeIfAbsent(job, j -> new CountDownLatch(1));
  }

  @Override
  public String name() {
    return "timeout-probe";
  }

  @Override
  public void validate(Payload payload) {
    payload.intField("tasks", 1, 100, null);
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      int tasks = payload.intField("tasks", 1, 100, null);
      var input = Json.object().put("ignoreFirst", payload.json().path("ignoreFirst").asBoolean());
      for (int i = 0; i < tasks; i++) {
        sink.accept(input);
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      starts(ctx.jobId(), ctx.seq()).add(startedAt(ctx));
      if (!ctx.input().path("ignoreFirst").asBoolean()) {
        awaitStop(ctx);
      } else if (ctx.attempt() == 1) {
        // Ignores its stop: returns only when the test lets it, after its retry has started.
        latch(LATE, ctx.jobId()).await();
      } else {
        latch(FINISH, ctx.jobId()).await();
      }
      return TaskResult.success(Json.object().put("attempt", ctx.attempt()));
    };
  }

  private static void awaitStop(TaskContext ctx) throws InterruptedException {
    while (!ctx.isCancelled()) {
      Thread.sleep(5);
    }
    sawStop(ctx.jobId(), ctx.seq()).add(ctx.attempt());
  }

  private static long startedAt(TaskContext ctx) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (extract(epoch FROM started_at) * 1000)::int8 FROM tasks"
                    + " WHERE job_id = ? AND seq = ?")) {
      ps.setObject(1, ctx.jobId());
      ps.setInt(2, ctx.seq());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> Json.object();
  }
}
