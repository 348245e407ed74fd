package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * A task a worker now holds a lease on; {@code leaseEpoch} is the fence its completion must carry.
 */
public record ClaimedTask(
    UUID jobId,
    int seq,
    int attempt,
    long leaseEpoch,
    JsonNode input,
    String type,
    int maxAttempts) {

  public TaskRef ref() {
    return new TaskRef(jobId, seq);
  }
}
