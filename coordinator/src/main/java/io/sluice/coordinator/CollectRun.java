package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.store.PostgresCollectAttempts.Gate;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One run of a job's collector, under one gate: the boundary where whatever a collector throws, an
 * {@link Error} included, becomes a failed attempt instead of killing the thread it ran on. It ends
 * exactly once, whichever comes first: the collector returns ({@link Done}) or throws ({@link
 * Failed}), its timeout passes ({@link #overran}: it is interrupted and the attempt fails), or its
 * gate is lost ({@link #lose}: taken over, or this coordinator stopping; it is interrupted and
 * nothing is committed). The end is handed to {@code onEnd} once; a collector that comes back after
 * its run ended changes nothing.
 *
 * <p>A run is created when its gate opens and waits for a collector thread; the {@link
 * JobCollector}'s heartbeat covers it from then on, its timeout from when it starts.
 */
final class CollectRun implements Runnable {
  /** What a collector computes. */
  @FunctionalInterface
  interface Body {
    JsonNode run() throws Exception;
  }

  /** How one run ended. */
  sealed interface Outcome permits Done, Failed, Lost, Exhausted {}

  /** The collector returned its result. */
  record Done(JsonNode result) implements Outcome {}

  /** The collector threw or overran: a failed attempt. */
  record Failed(String error) implements Outcome {}

  /** The gate was lost (taken over) or this coordinator is stopping: commit nothing. */
  record Lost(String why) implements Outcome {}

  /**
   * The gate was taken over with every attempt already spent: the collector does not run again and
   * the job fails with {@code why}.
   */
  record Exhausted(String why) implements Outcome {}

  private static final int WAITING = 0;
  private static final int RUNNING = 1;
  private static final int ENDED = 2;

  private final UUID jobId;
  private final Gate gate;
  private final Body body;
  private final Duration timeout;
  private final Consumer<CollectRun> onEnd;
  private final AtomicInteger state = new AtomicInteger(WAITING);
  private volatile long deadline;
  private volatile Outcome outcome;
  private volatile boolean startedBeforeEnd;
  private Thread thread; // guarded by this

  CollectRun(UUID jobId, Gate gate, Body body, Duration timeout, Consumer<CollectRun> onEnd) {
    this.jobId = jobId;
    this.gate = gate;
    this.body = body;
    this.timeout = timeout;
    this.onEnd = onEnd;
  }

  UUID jobId() {
    return jobId;
  }

  Gate gate() {
    return gate;
  }

  /** How it ended; null until it has. */
  Outcome outcome() {
    return outcome;
  }

  /** Whether it had started when it ended (it held a collector thread's place). */
  boolean startedBeforeEnd() {
    return startedBeforeEnd;
  }

  boolean ended() {
    return state.get() == ENDED;
  }

  /**
   * Marks the run started, its timeout counting from now; false when it ended before it could start
   * (its gate was lost meanwhile), and then it must not run.
   */
  boolean begin() {
    deadline = System.nanoTime() + timeout.toNanos();
    return state.compareAndSet(WAITING, RUNNING);
  }

  /** True when the run started and its timeout passed. */
  boolean overran(long now) {
    return state.get() == RUNNING && now - deadline >= 0;
  }

  /** Ends a run whose timeout passed: a failed attempt; false when it had ended already. */
  boolean timeOut() {
    return endWith(new Failed("timed out after " + timeout), true);
  }

  /** Ends the run without a result; false when it had ended already. */
  boolean lose(String why) {
    return endWith(new Lost(why), true);
  }

  /** Ends the run with {@code o}; false when it had ended already. */
  boolean endWith(Outcome o) {
    return endWith(o, false);
  }

  @Override
  public void run() {
    synchronized (this) {
      thread = Thread.currentThread();
    }
    try {
      if (state.get() != RUNNING) {
        return;
      }
      JsonNode result;
      try {
        result = body.run();
      } catch (Throwable t) {
        endWith(new Failed(describe(t)), false);
        return;
      }
      endWith(new Done(result), false);
    } finally {
      synchronized (this) {
        thread = null;
        // An interrupt meant for this run must not reach whatever the thread runs next.
        Thread.interrupted();
      }
    }
  }

  private boolean endWith(Outcome o, boolean interrupt) {
    int was = state.getAndSet(ENDED);
    if (was == ENDED) {
      return false;
    }
    startedBeforeEnd = was == RUNNING;
    outcome = o;
    if (interrupt) {
      synchronized (this) {
        if (thread != null) {
          thread.interrupt();
        }
      }
    }
    onEnd.accept(this);
    return true;
  }

  private static String describe(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getName() : message;
  }
}
