package io.sluice.launcher;

import io.sluice.client.StageSnapshot;
import java.io.Console;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shows a job's progress: one redrawn line ({@code \r}) on a terminal, else a line whenever another
 * tenth of the tasks is done or the status changes, so logs of non-interactive runs stay short. A
 * pipeline gets one bar per stage: redrawn in place on a terminal, else a stage's line whenever
 * another tenth of its tasks is done or its status changes.
 */
final class ProgressBar {
  private static final int WIDTH = 32;

  private final PrintStream out;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private String lastStatus = "";
  private int lastTenth = -1;
  private int lastLength;
  private int drawnStageLines;
  private final Map<String, String> lastStageShown = new HashMap<>();

  ProgressBar(PrintStream out) {
    this(out, isTerminal());
  }

  ProgressBar(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  void update(JobView job) {
    if (job.pipeline()) {
      updateStages(job.stages());
      return;
    }
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

  private void updateStages(List<StageSnapshot> stages) {
    int width = stages.stream().mapToInt(st -> st.name().length()).max().orElse(0);
    if (terminal) {
      StringBuilder s = new StringBuilder();
      if (drawnStageLines > 0) {
        s.append("\033[").append(drawnStageLines).append('F');
      }
      for (StageSnapshot stage : stages) {
        s.append(render(stage, width)).append("\033[K\n");
      }
      out.print(s);
      out.flush();
      drawnStageLines = stages.size();
      return;
    }
    for (StageSnapshot stage : stages) {
      int total = stage.taskCount();
      String shown = stage.status() + " " + (total == 0 ? 0 : stage.tasksFinished() * 10 / total);
      if (!shown.equals(lastStageShown.put(stage.name(), shown))) {
        out.println(render(stage, width));
      }
    }
  }

  /** Ends the redrawn line so the next output starts on its own. */
  void finish() {
    if (terminal && lastLength > 0) {
      out.println();
    }
  }

  String render(JobView job) {
    return bar(job.finished(), job.taskCount(), job.failed(), job.status());
  }

  /** One stage's bar, its name first, padded to {@code nameWidth} so the bars line up. */
  String render(StageSnapshot stage, int nameWidth) {
    return String.format("%-" + nameWidth + "s ", stage.name())
        + bar(stage.tasksFinished(), stage.taskCount(), stage.tasksFailed(), stage.status());
  }

  private String bar(int done, int total, int failed, String status) {
    int filled = total == 0 ? 0 : (int) ((long) done * WIDTH / total);
    return String.format(
        "[%s%s] %d/%d tasks%s %3d%%  %-10s %5.1fs",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        done,
        total,
        failed > 0 ? " (" + failed + " failed)" : "",
        total == 0 ? 0 : done * 100L / total,
        status,
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
