package io.sluice.store;

import java.util.UUID;

/**
 * The end of one claim: the new status (SUCCEEDED, FAILED or RETRY_WAIT), fenced by the claim's
 * epoch. {@code outputJson} is JSON text or null; {@code retryDelayMs} applies to RETRY_WAIT.
 */
public record Completion(
    UUID jobId,
    int seq,
    long leaseEpoch,
    TaskStatus status,
    String outputJson,
    String error,
    long retryDelayMs) {

  public boolean isTerminal() {
    return status == TaskStatus.SUCCEEDED || status == TaskStatus.FAILED;
  }
}
