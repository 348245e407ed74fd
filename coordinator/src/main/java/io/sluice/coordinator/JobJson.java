package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import io.sluice.store.Job;
import io.sluice.store.TaskView;

/** The API's JSON shapes of jobs and tasks (the public contract, in the README section "API"). */
final class JobJson {
  private JobJson() {}

  static ObjectNode job(Job job) {
    ObjectNode n = Json.object();
    n.put("id", job.id().toString());
    n.put("type", job.type());
    n.put("queue", job.queue());
    n.put("status", job.status().name());
    n.put("version", job.version());
    n.put("taskCount", job.taskCount());
    n.put("tasksSucceeded", job.tasksSucceeded());
    n.put("tasksFailed", job.tasksFailed());
    n.put("progress", job.progress());
    n.set("result", job.result());
    n.put("error", job.error());
    n.put("priority", job.priority());
    n.put("maxAttempts", job.maxAttempts());
    n.put("onTaskFailure", job.onTaskFailure());
    n.put("idempotencyKey", job.idempotencyKey());
    n.put("createdAt", job.createdAt().toString());
    n.put("updatedAt", job.updatedAt().toString());
    n.put("finishedAt", job.finishedAt() == null ? null : job.finishedAt().toString());
    n.set("labels", job.labels() == null ? Json.object() : job.labels());
    n.put("runAt", job.runAt() == null ? null : job.runAt().toString());
    return n;
  }

  static ObjectNode task(TaskView t) {
    ObjectNode n = Json.object();
    n.put("seq", t.seq());
    n.put("status", t.status().name());
    n.put("attempt", t.attempt());
    n.put("workerId", t.workerId());
    n.put("progress", t.progress());
    n.set("output", t.output());
    n.put("error", t.error());
    n.put("startedAt", t.startedAt() == null ? null : t.startedAt().toString());
    n.put("finishedAt", t.finishedAt() == null ? null : t.finishedAt().toString());
    n.put("phase", t.phase());
    n.put("message", t.message());
    return n;
  }
}
