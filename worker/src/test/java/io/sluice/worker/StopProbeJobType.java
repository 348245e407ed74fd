package io.sluice.worker;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import io.sluice.store.TaskRef;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code stop-probe}: the first run of each task waits until it is told to stop and then claims
 * success, as a careless handler (or {@code noop} before) would; every later run succeeds at once.
 * Its output names the claim (fence token) whose result was committed.
 */
public final class StopProbeJobType implements JobType {
  static final String NAME = "stop-probe";
  private static final Set<TaskRef> started = ConcurrentHashMap.newKeySet();
  static final Set<TaskRef> toldToStop = ConcurrentHashMap.newKeySet();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void validate(Payload payload) {}

  @Override
  public Splitter splitter() {
    return (payload, sink) -> sink.accept(Json.object());
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      TaskRef ref = new TaskRef(ctx.jobId(), ctx.seq());
      if (started.add(ref)) {
        while (!ctx.isCancelled()) {
          Thread.sleep(20);
        }
        toldToStop.add(ref);
      }
      return TaskResult.success(Json.object().put("epoch", ctx.fenceToken()));
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> Json.object();
  }
}
