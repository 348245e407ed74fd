package io.sluice.launcher;

import java.io.Console;
import java.io.PrintStream;

/**
 * Shows a job's progress: one redrawn line ({@code \r}) on a terminal, else a line whenever another
 * tenth of the tasks is done or the status changes, so logs of non-interactive runs stay short.
 */
final class ProgressBar {
  private static final int WIDTH = 32;

  private final PrintStream out;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private String lastStatus = "";
  private int lastTenth = -1;
  private int lastLength;

  ProgressBar(PrintStream out) {
    this(out, isTerminal());
  }

  ProgressBar(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  void update(JobView job) {
    String line = render(job);
    if (terminal) {
      out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
      lastLength = line.length();
      out.flush();
      return;
    }
    int tenth = job.taskCount() == 0 ? 0 : job.finished() * 10 / job.taskCount();
    if (tenth != lastTenth || !job.status().equals(lastStatus)) {
      out.println(line);
      lastTenth = tenth;
      lastStatus = job.status();
    }
  }

  /** Ends the redrawn line so the next output starts on its own. */
  void finish() {
    if (terminal && lastLength > 0) {
      out.println();
    }
  }

  String render(JobView job) {
    int total = job.taskCount();
    int done = job.finished();
    int filled = total == 0 ? 0 : (int) ((long) done * WIDTH / total);
    String failed = job.failed() > 0 ? " (" + job.failed() + " failed)" : "";
    return String.format(
        "[%s%s] %d/%d tasks%s %3d%%  %-10s %5.1fs",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        done,
        total,
        failed,
        total == 0 ? 0 : done * 100L / total,
        job.status(),
        (System.nanoTime() - startNanos) / 1e9);
  }

  /**
   * Whether standard output is an interactive terminal. From JDK 22 {@code System.console()} is
   * non-null even when output is redirected, and {@code Console.isTerminal()} tells; it does not
   * exist in 21, the release this code is compiled for, hence the reflection.
   */
  static boolean isTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }
}
