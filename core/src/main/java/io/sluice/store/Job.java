package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Stage;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A job row as stored: a one-stage job, a pipeline, or a stage of a pipeline ({@code parentId}).
 * {@code labels} is a JSON object of strings the client attached; {@code runAt} is the earliest
 * time its tasks may start, or null. {@code limits} are its time limits and {@code deadlineAt} the
 * instant its deadline falls (on PostgreSQL's clock), or null.
 */
public record Job(
    UUID id,
    String tenant,
    String type,
    String queue,
    JobStatus status,
    long version,
    String idempotencyKey,
    String requestHash,
    int priority,
    int maxAttempts,
    String onTaskFailure,
    int taskCount,
    int tasksSucceeded,
    int tasksFailed,
    JsonNode result,
    String error,
    Instant createdAt,
    Instant updatedAt,
    Instant finishedAt,
    JsonNode labels,
    Instant runAt,
    UUID parentId,
    String stageName,
    int stageIdx,
    List<String> dependsOn,
    int stageCount,
    Instant startedAt,
    TimeLimits limits,
    Instant deadlineAt,
    ConcurrencyKey concurrency) {

  /** Whether this row is a pipeline: it has stages (rows of their own) and no tasks. */
  public boolean isPipeline() {
    return stageCount > 0;
  }

  /** Whether this row is a stage of a pipeline ({@link #parentId()}). */
  public boolean isStage() {
    return parentId != null;
  }

  /** The stage's name: its own for a stage of a pipeline, {@code main} for a one-stage job. */
  public String stage() {
    return stageName == null ? Stage.MAIN : stageName;
  }

  /** Finished tasks over all tasks; 1 once the job is terminal. */
  public double progress() {
    if (status.isTerminal() || taskCount == 0) {
      return status == JobStatus.SUCCEEDED || taskCount == 0 ? 1.0 : fraction();
    }
    return fraction();
  }

  private double fraction() {
    return taskCount == 0 ? 0 : (double) (tasksSucceeded + tasksFailed) / taskCount;
  }

  public boolean allTasksFinished() {
    return tasksSucceeded + tasksFailed == taskCount;
  }
}
