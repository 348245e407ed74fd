package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/** What a handler knows about the task it runs. */
public interface TaskContext {
  UUID jobId();

  int seq();

  /** The task's input, as the splitter produced it. */
  JsonNode input();

  /** 1 on the first delivery. */
  int attempt();

  int maxAttempts();

  /**
   * The fence token of this claim. It grows with every claim of the task, so it (with the job id
   * and sequence) is a safe idempotency key for side effects outside Sluice.
   */
  long fenceToken();

  /**
   * True once the job was cancelled or this worker lost the task's lease; stop as soon as possible.
   */
  boolean isCancelled();

  /** Reports progress in [0, 1]; cheap, may be called often. */
  void reportProgress(double fraction);
}
