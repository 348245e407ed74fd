package io.sluice.worker;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only fault points, off unless their environment variable is set. {@code
 * SLUICE_FAULT_HALT_AFTER_COMMITS=N} halts the JVM (as a SIGKILL would) right after its Nth
 * completion commit and before the stream entries are acknowledged: the window in which a naive
 * fan-in counts a task twice.
 */
final class FaultInjection {
  private static final int HALT_AFTER_COMMITS =
      parse(System.getenv("SLUICE_FAULT_HALT_AFTER_COMMITS"));
  private static final AtomicInteger commits = new AtomicInteger();

  private FaultInjection() {}

  static void afterCommitBeforeAck() {
    if (HALT_AFTER_COMMITS > 0 && commits.incrementAndGet() >= HALT_AFTER_COMMITS) {
      Runtime.getRuntime().halt(137);
    }
  }

  private static int parse(String value) {
    try {
      return value == null ? 0 : Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
