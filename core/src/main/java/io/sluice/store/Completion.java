package io.sluice.store;

import java.util.UUID;

/**
 * The end of one claim: the new status (SUCCEEDED, FAILED or RETRY_WAIT, or QUEUED for a hand-back
 * that does not spend the attempt), fenced by the claim's epoch. {@code outputJson} is JSON text or
 * null; {@code retryDelayMs} applies to RETRY_WAIT; a hand-back's {@code error} says why.
 */
public record Completion(
    UUID jobId,
    int seq,
    long leaseEpoch,
    TaskStatus status,
    String outputJson,
    String error,
    long retryDelayMs) {

  /** Gives the claim back unfinished: the task is queued again and its attempt is not spent. */
  public static Completion handBack(UUID jobId, int seq, long leaseEpoch, String reason) {
    return new Completion(jobId, seq, leaseEpoch, TaskStatus.QUEUED, null, reason, 0);
  }

  public boolean isHandBack() {
    return status == TaskStatus.QUEUED;
  }

  public boolean isTerminal() {
    return status == TaskStatus.SUCCEEDED || status == TaskStatus.FAILED;
  }
}
