package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.PostgresTaskProgress;
import io.sluice.store.PostgresTaskProgress.Live;
import java.util.Map;

/**
 * A job's progress as the API shows it: finished tasks count whole, running tasks by what their
 * handlers last reported, and {@code phases} counts the running tasks in each named phase with
 * their mean progress. Reads only the job's running tasks (a partial index), never all of them.
 */
final class LiveProgress {
  private final Database db;
  private final PostgresTaskProgress progress = new PostgresTaskProgress();

  LiveProgress(Database db) {
    this.db = db;
  }

  /** Sets {@code progress}, {@code running} and {@code phases} of a job's JSON. */
  ObjectNode decorate(ObjectNode json, Job job) {
    Live live =
        job.status().isTerminal()
            ? new Live(0, 0, Map.of())
            : db.query(c -> progress.live(c, job.id()));
    double fraction =
        job.status().isTerminal() || job.taskCount() == 0
            ? job.progress()
            : Math.min(
                1,
                (job.tasksSucceeded() + job.tasksFailed() + live.progressSum()) / job.taskCount());
    json.put("progress", Math.round(fraction * 10_000) / 10_000.0);
    json.put("running", live.running());
    ObjectNode phases = json.putObject("phases");
    live.phases()
        .forEach(
            (name, phase) ->
                phases
                    .putObject(name)
                    .put("running", phase.tasks())
                    .put("progress", Math.round(phase.mean() * 10_000) / 10_000.0));
    return json;
  }
}
