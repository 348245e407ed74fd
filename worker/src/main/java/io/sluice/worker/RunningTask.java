package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.TaskContext;
import io.sluice.store.ClaimedTask;
import io.sluice.store.TimeLimits;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A claimed task while its handler runs: the claim, its stream entry, its cancellation flag and its
 * latest progress report (picked up and written by the {@link ProgressWriter}). {@code queue} names
 * the stream the entry came from: the queue, or one of its priority bands.
 */
final class RunningTask implements TaskContext {
  final ClaimedTask claim;
  final String queue;
  final String entryId;
  final int keyLimit;
  private volatile String stopReason;
  private volatile boolean timedOut;
  private volatile boolean leaseLost;
  private volatile double progress;
  private volatile String phase;
  private volatile String message;
  // The traceparent of this run's span, set by TaskRunner before the handler is called.
  private volatile String traceParent;
  private final AtomicReference<Progress> unwritten = new AtomicReference<>();

  /** One progress report as the handler made it. */
  record Progress(double fraction, String phase, String message) {}

  RunningTask(ClaimedTask claim, String queue, String entryId) {
    this(claim, queue, entryId, 0);
  }

  /**
   * A task read from a concurrency key's stream, whose read took one of the key's {@code keyLimit}
   * slots (0: an entry of no key's stream).
   */
  RunningTask(ClaimedTask claim, String queue, String entryId, int keyLimit) {
    this.claim = claim;
    this.queue = queue;
    this.entryId = entryId;
    this.keyLimit = keyLimit;
  }

  /**
   * Tells the handler to stop. The request is never withdrawn, even when the lease turns out to be
   * kept: a handler may already have seen it and returned early, so whatever it returns is handed
   * back rather than committed (see {@link TaskRunner}). The first reason is kept.
   */
  void stop(String reason) {
    stop(reason, false);
  }

  /**
   * Tells the handler to stop because its attempt ran past its job's task timeout: unless it was
   * told to stop for another reason first, whatever it returns fails the attempt with {@code "timed
   * out after …"} (see {@link TaskRunner}).
   */
  void timeOut() {
    stop(TimeLimits.timedOutError(claim.limits().taskTimeout()), true);
  }

  private void stop(String reason, boolean timeout) {
    if (stopReason == null) {
      synchronized (this) {
        if (stopReason == null) {
          timedOut = timeout;
          stopReason = reason;
        }
      }
    }
  }

  /** Whether the first stop request was its timeout's. */
  boolean timedOut() {
    return timedOut && stopReason != null;
  }

  /** Why the handler was told to stop, or null while it was not. */
  String stopReason() {
    return stopReason;
  }

  /** Marks the lease as gone (renewal found another claim, or the job ended): renew it no more. */
  void leaseLost() {
    leaseLost = true;
  }

  boolean isLeaseLost() {
    return leaseLost;
  }

  void traceParent(String traceParent) {
    this.traceParent = traceParent;
  }

  @Override
  public String traceParent() {
    return traceParent;
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
    return stopReason != null;
  }

  @Override
  public void reportProgress(double fraction) {
    reportProgress(null, fraction, message);
  }

  @Override
  public void reportProgress(String phase, double fraction, String message) {
    Progress report;
    synchronized (this) {
      if (!Double.isNaN(fraction)) {
        progress = Math.max(0, Math.min(1, fraction));
      }
      if (phase != null) {
        this.phase = cut(phase, 64);
      }
      this.message = message == null ? null : cut(message, 500);
      report = new Progress(progress, this.phase, this.message);
    }
    unwritten.set(report);
  }

  /** The latest report not yet handed to the writer, or null; each report is handed over once. */
  Progress takeUnwrittenProgress() {
    return unwritten.getAndSet(null);
  }

  /** Puts back a report whose write failed, unless a newer one was made meanwhile. */
  void restoreUnwrittenProgress(Progress report) {
    unwritten.compareAndSet(null, report);
  }

  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  double progress() {
    return progress;
  }
}
