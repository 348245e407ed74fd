package io.sluice.worker;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import io.sluice.store.TaskRef;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code start-log}: each run appends its task to a log in the order the tasks started, then takes
 * {@link #RUN_MILLIS} so that a backlog outlasts a few fetch rounds.
 */
public final class StartLogJobType implements JobType {
  static final String NAME = "start-log";
  static final long RUN_MILLIS = 5;
  private static final ConcurrentLinkedQueue<TaskRef> started = new ConcurrentLinkedQueue<>();

  /** The tasks started so far, in order. */
  static List<TaskRef> started() {
    return List.copyOf(started);
  }

  static void reset() {
    started.clear();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validate(Payload payload) {}

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      for (int i = 0; i < payload.json().path("tasks").asInt(1); i++) {
        sink.accept(Json.object());
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      started.add(new TaskRef(ctx.jobId(), ctx.seq()));
      Thread.sleep(RUN_MILLIS);
      return TaskResult.success(Json.object());
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> Json.object();
  }
}
