package io.sluice.health;

import java.time.Duration;

/**
 * How to run one background loop under a {@link LoopSupervisor}: its name, its body, and what the
 * watchdog does with it.
 *
 * @param stallAfter how long the body may go without {@link LoopContext#beat()} before it is
 *     stopped and restarted; null for a loop that is restarted only when its thread dies
 * @param onStall releases what a stalled body blocks on (a connection), after it was interrupted
 * @param onStop tells the body to finish its current turn and return (see {@link
 *     LoopSupervisor.Loop#stop()})
 * @param reported whether the loop counts for readiness, is exported as {@code
 *     sluice_listener_up}/{@code sluice_listener_restarts_total} and listed in the node's
 *     heartbeat; a plain timer (heartbeat, metrics sampling) is supervised but not reported
 */
public record LoopSpec(
    String name,
    LoopSupervisor.Body body,
    Duration stallAfter,
    Runnable onStall,
    Runnable onStop,
    boolean reported) {
  private static final Runnable NOTHING = () -> {};

  public LoopSpec {
    if (name == null || body == null) {
      throw new IllegalArgumentException("a loop needs a name and a body");
    }
    if (stallAfter != null && !stallAfter.isPositive()) {
      throw new IllegalArgumentException("loop " + name + ": stallAfter must be positive");
    }
    onStall = onStall == null ? NOTHING : onStall;
    onStop = onStop == null ? NOTHING : onStop;
  }

  /** A reported loop running {@code body}, restarted when its thread dies. */
  public static LoopSpec of(String name, LoopSupervisor.Body body) {
    return new LoopSpec(name, body, null, null, null, true);
  }

  /**
   * An unreported loop that runs {@code step} after {@code initialDelay} and then {@code period}
   * after each run ends (a fixed delay, like {@code scheduleWithFixedDelay}). A step that throws
   * ends the run; the watchdog starts it again with backoff.
   */
  public static LoopSpec every(String name, Duration initialDelay, Duration period, Runnable step) {
    return new LoopSpec(name, periodic(initialDelay, period, step), null, null, null, false);
  }

  /** A body that beats, runs {@code step} and pauses {@code period}, until told to stop. */
  public static LoopSupervisor.Body periodic(
      Duration initialDelay, Duration period, Runnable step) {
    if (!period.isPositive() || initialDelay.isNegative()) {
      throw new IllegalArgumentException(
          "a periodic loop needs a positive period and a delay >= 0, got "
              + period
              + " and "
              + initialDelay);
    }
    return self -> {
      if (!self.pause(initialDelay)) {
        return;
      }
      do {
        self.beat();
        step.run();
      } while (self.pause(period));
    };
  }

  public LoopSpec stallAfter(Duration limit) {
    return new LoopSpec(name, body, limit, onStall, onStop, reported);
  }

  public LoopSpec onStall(Runnable release) {
    return new LoopSpec(name, body, stallAfter, release, onStop, reported);
  }

  public LoopSpec onStop(Runnable stop) {
    return new LoopSpec(name, body, stallAfter, onStall, stop, reported);
  }

  public LoopSpec reported(boolean reported) {
    return new LoopSpec(name, body, stallAfter, onStall, onStop, reported);
  }
}
