package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.TaskContext;
import io.sluice.store.ClaimedTask;
import java.util.UUID;

/**
 * A claimed task while its handler runs: the claim, its stream entry, and its cancellation flag.
 */
final class RunningTask implements TaskContext {
  final ClaimedTask claim;
  final String queue;
  final String entryId;
  private volatile boolean cancelled;
  private volatile double progress;

  RunningTask(ClaimedTask claim, String queue, String entryId) {
    this.claim = claim;
    this.queue = queue;
    this.entryId = entryId;
  }

  void cancel() {
    cancelled = true;
  }

  @Override
  public UUID jobId() {
    return claim.jobId();
  }

  @Override
  public int seq() {
    return claim.seq();
  }

  @Override
  public JsonNode input() {
    return claim.input();
  }

  @Override
  public int attempt() {
    return claim.attempt();
  }

  @Override
  public int maxAttempts() {
    return claim.maxAttempts();
  }

  @Override
  public long fenceToken() {
    return claim.leaseEpoch();
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public void reportProgress(double fraction) {
    progress = Math.max(0, Math.min(1, fraction));
  }

  double progress() {
    return progress;
  }
}
