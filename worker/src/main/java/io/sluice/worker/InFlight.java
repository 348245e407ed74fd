package io.sluice.worker;

import io.sluice.store.TaskRef;
import java.util.Collection;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** The tasks this worker holds a lease on, from claim until their completion is committed. */
final class InFlight {
  private final ConcurrentHashMap<TaskRef, RunningTask> tasks = new ConcurrentHashMap<>();

  void add(RunningTask task) {
    tasks.put(task.claim.ref(), task);
  }

  void remove(UUID jobId, int seq) {
    tasks.remove(new TaskRef(jobId, seq));
  }

  RunningTask get(TaskRef ref) {
    return tasks.get(ref);
  }

  Collection<RunningTask> all() {
    return tasks.values();
  }

  int size() {
    return tasks.size();
  }
}
