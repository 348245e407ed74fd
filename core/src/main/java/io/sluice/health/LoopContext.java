package io.sluice.health;

import java.time.Duration;

/** What a loop body sees of the loop that runs it. */
public interface LoopContext {
  /** Reports progress; a supervised loop that stops calling this is considered stalled. */
  void beat();

  /**
   * Waits {@code period}, returning early when the loop is told to stop; returns false then, true
   * when the loop should take another turn.
   *
   * @throws InterruptedException when the thread is interrupted (the supervisor closes)
   */
  boolean pause(Duration period) throws InterruptedException;

  /** A context for running a body on a test's own thread: beats go nowhere, pauses just sleep. */
  static LoopContext unsupervised() {
    return new LoopContext() {
      @Override
      public void beat() {}

      @Override
      public boolean pause(Duration period) throws InterruptedException {
        Thread.sleep(period);
        return true;
      }
    };
  }
}
