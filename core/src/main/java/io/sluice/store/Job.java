package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.UUID;

/**
 * A job row as stored. {@code labels} is a JSON object of strings the client attached; {@code
 * runAt} is the earliest time its tasks may start, or null.
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
    Instant runAt) {

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
