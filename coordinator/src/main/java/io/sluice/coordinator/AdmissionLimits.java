package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;

/**
 * How much accepted-but-unfinished work a coordinator lets pile up before it sheds submissions with
 * 503 and {@code Retry-After} (G8). Each bound covers one stage a job waits in between its 201 and
 * its first task starting or its collection, so a stream of jobs faster than the cluster runs them
 * is refused at the door instead of queueing without bound.
 *
 * @param maxSubmitting submissions in progress at once on this coordinator ({@code
 *     SLUICE_ADMIT_MAX_SUBMITTING}, default 512), also the bound of the group-commit queue. Small
 *     jobs wait there for a shared transaction and hold no connection of their own; large ones
 *     (streaming their tasks) are stored at most half the pool at a time, so dispatch and
 *     collection keep connections however many clients submit
 * @param submitWait how long a submission may wait for one of those places before it is shed
 *     ({@code SLUICE_ADMIT_SUBMIT_WAIT}, default 5s, the pool's own connection timeout): a burst
 *     queues for a bounded time; the other bounds shed sustained excess at once
 * @param maxDispatchBacklog jobs accepted by this coordinator and not yet on their Redis queue
 *     ({@code SLUICE_ADMIT_MAX_DISPATCH_BACKLOG}, default 10000); also the capacity of the dispatch
 *     queue, which therefore never overflows
 * @param maxCollectBacklog jobs whose tasks are all done, waiting in the collect stream for their
 *     collection ({@code SLUICE_ADMIT_MAX_COLLECT_BACKLOG}, default 10000)
 * @param maxQueuedTasks tasks waiting in a queue's ready streams, not yet read by any worker
 *     ({@code SLUICE_ADMIT_MAX_QUEUED_TASKS}, default 1000000): a submission to a queue this far
 *     behind is shed; the job that makes it so is still accepted
 */
public record AdmissionLimits(
    int maxSubmitting,
    Duration submitWait,
    int maxDispatchBacklog,
    int maxCollectBacklog,
    long maxQueuedTasks) {

  /** The defaults. */
  public static final AdmissionLimits DEFAULT =
      new AdmissionLimits(512, Duration.ofSeconds(5), 10_000, 10_000, 1_000_000);

  public AdmissionLimits {
    if (maxSubmitting < 1 || maxSubmitting > 100_000) {
      throw new ConfigException(
          "SLUICE_ADMIT_MAX_SUBMITTING", String.valueOf(maxSubmitting), "must be 1-100000");
    }
    if (submitWait == null || submitWait.isNegative() || submitWait.toSeconds() > 60) {
      throw new ConfigException(
          "SLUICE_ADMIT_SUBMIT_WAIT", String.valueOf(submitWait), "must be 0-60s");
    }
    if (maxDispatchBacklog < 1 || maxDispatchBacklog > 1_000_000) {
      throw new ConfigException(
          "SLUICE_ADMIT_MAX_DISPATCH_BACKLOG",
          String.valueOf(maxDispatchBacklog),
          "must be 1-1000000");
    }
    if (maxCollectBacklog < 1 || maxCollectBacklog > 1_000_000) {
      throw new ConfigException(
          "SLUICE_ADMIT_MAX_COLLECT_BACKLOG",
          String.valueOf(maxCollectBacklog),
          "must be 1-1000000");
    }
    if (maxQueuedTasks < 1) {
      throw new ConfigException(
          "SLUICE_ADMIT_MAX_QUEUED_TASKS", String.valueOf(maxQueuedTasks), "must be positive");
    }
  }

  /** Reads the {@code SLUICE_ADMIT_*} variables. */
  public static AdmissionLimits fromEnv(Env env) {
    return new AdmissionLimits(
        env.intValue("SLUICE_ADMIT_MAX_SUBMITTING", DEFAULT.maxSubmitting, 1, 100_000),
        submitWait(env),
        env.intValue("SLUICE_ADMIT_MAX_DISPATCH_BACKLOG", DEFAULT.maxDispatchBacklog, 1, 1_000_000),
        env.intValue("SLUICE_ADMIT_MAX_COLLECT_BACKLOG", DEFAULT.maxCollectBacklog, 1, 1_000_000),
        env.longValue("SLUICE_ADMIT_MAX_QUEUED_TASKS", DEFAULT.maxQueuedTasks, 1, Long.MAX_VALUE));
  }

  /** Zero is allowed here (shed at once), unlike {@link Env#duration}. */
  private static Duration submitWait(Env env) {
    String raw = env.get("SLUICE_ADMIT_SUBMIT_WAIT");
    if (raw == null) {
      return DEFAULT.submitWait;
    }
    if (raw.equals("0")) {
      return Duration.ZERO;
    }
    return env.duration("SLUICE_ADMIT_SUBMIT_WAIT", DEFAULT.submitWait);
  }

  @Override
  public String toString() {
    return "AdmissionLimits[submitting="
        + maxSubmitting
        + " (wait "
        + submitWait.toMillis()
        + " ms), dispatchBacklog="
        + maxDispatchBacklog
        + ", collectBacklog="
        + maxCollectBacklog
        + ", queuedTasks="
        + maxQueuedTasks
        + "]";
  }
}
