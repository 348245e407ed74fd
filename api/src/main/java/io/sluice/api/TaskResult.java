package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/** How a task ended. */
public sealed interface TaskResult {

  static TaskResult success(JsonNode output) {
    return new Success(output);
  }

  static TaskResult retryAfter(Duration delay, String reason) {
    return new Retry(delay, reason);
  }

  static TaskResult fail(String reason) {
    return new Fail(reason);
  }

  /** The task produced its output; the output is committed exactly once. */
  record Success(JsonNode output) implements TaskResult {}

  /** Try again after at least {@code delay}, if attempts remain. */
  record Retry(Duration delay, String reason) implements TaskResult {}

  /** The task failed for good; no retry. */
  record Fail(String reason) implements TaskResult {}
}
