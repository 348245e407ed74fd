package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import io.sluice.store.ConcurrencyKey;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.TaskView;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.List;

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
    limits(n, job);
    n.put("concurrencyKey", ConcurrencyKey.keyOf(job.concurrency()));
    if (job.concurrency() == null) {
      n.putNull("concurrencyLimit");
    } else {
      n.put("concurrencyLimit", job.concurrency().limit());
    }
    return n;
  }

  /**
   * The job's time limits as durations like the request's ({@code "30s"}), null when not given;
   * {@code deadlineAt} is when its deadline falls on PostgreSQL's clock.
   */
  private static void limits(ObjectNode n, Job job) {
    TimeLimits limits = job.limits();
    n.put("taskTimeout", text(limits.taskTimeout()));
    n.put("deadline", text(limits.deadline()));
    n.put("deadlineAt", job.deadlineAt() == null ? null : job.deadlineAt().toString());
    if (limits.retryBase() == null) {
      n.putNull("retry");
    } else {
      n.putObject("retry")
          .put("base", text(limits.retryBase()))
          .put("max", text(limits.retryMax()));
    }
  }

  private static String text(Duration d) {
    return d == null ? null : TimeLimits.text(d);
  }

  /**
   * A job's {@code stages}: each stage of a pipeline in topological order, or the one stage {@code
   * main} of a one-stage job, which is the job itself.
   */
  static ArrayNode stages(Job job, List<Job> stages) {
    ArrayNode list = Json.MAPPER.createArrayNode();
    if (stages.isEmpty()) {
      list.add(stage(job));
    } else {
      stages.forEach(s -> list.add(stage(s)));
    }
    return list;
  }

  /**
   * One stage. A stage split but not yet dispatched (QUEUED) shows as RUNNING: the stage statuses
   * are WAITING, RUNNING, COLLECTING, SUCCEEDED, FAILED, CANCELLED.
   */
  private static ObjectNode stage(Job s) {
    ObjectNode n = Json.object();
    n.put("name", s.stage());
    n.put("type", s.type());
    n.put("queue", s.queue());
    n.put("status", s.status() == JobStatus.QUEUED ? "RUNNING" : s.status().name());
    ArrayNode deps = n.putArray("dependsOn");
    s.dependsOn().forEach(deps::add);
    n.put("taskCount", s.taskCount());
    n.put("tasksSucceeded", s.tasksSucceeded());
    n.put("tasksFailed", s.tasksFailed());
    n.put("progress", s.status() == JobStatus.WAITING ? 0.0 : s.progress());
    n.set("result", s.result());
    n.put("error", s.error());
    n.put("onTaskFailure", s.onTaskFailure());
    n.put("taskTimeout", text(s.limits().taskTimeout()));
    n.put("startedAt", s.startedAt() == null ? null : s.startedAt().toString());
    n.put("finishedAt", s.finishedAt() == null ? null : s.finishedAt().toString());
    return n;
  }

  /** A task of the stage named {@code stage}. */
  static ObjectNode task(TaskView t, String stage) {
    ObjectNode n = task(t);
    n.put("stage", stage);
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
