package io.sluice.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A child JVM's heap as its own GC log ({@code -Xlog:gc:file=…}) tells it: each collection logs
 * {@code before->after(committed)}, so the largest "before" (or the heap at exit, logged by {@code
 * gc+heap+exit}, if larger) is the peak heap used and the last "after" is what was live at the
 * latest collection. The processes expose no JVM metrics on {@code /metrics}, and a log costs
 * nothing to poll.
 */
final class GcLog {
  private static final Pattern PAUSE =
      Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
  // At exit (gc+heap+exit) each generation, or G1's whole heap, prints "total 110592K, used
  // 56318K".
  private static final Pattern AT_EXIT = Pattern.compile("total \\d+K, used (\\d+)K");

  /** Megabytes: peak used before a collection, live after the latest one, and collections seen. */
  record Heap(double peakMb, double lastLiveMb, int collections) {
    static final Heap NONE = new Heap(-1, -1, 0);
  }

  private GcLog() {}

  /**
   * The JVM argument that makes a child named {@code {name}} log its collections in {@code dir}.
   */
  static String jvmArg(Path dir) {
    return "-Xlog:gc,gc+heap+exit:file=" + dir.resolve("{name}-gc.log");
  }

  static Path file(Path dir, String child) {
    return dir.resolve(child + "-gc.log");
  }

  static Heap read(Path file) {
    try {
      return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Heap.NONE;
    }
  }

  static Heap parse(List<String> lines) {
    double peak = -1;
    double last = -1;
    int n = 0;
    double atExit = -1;
    for (String line : lines) {
      Matcher m = PAUSE.matcher(line);
      if (m.find()) {
        peak = Math.max(peak, mb(m.group(1), m.group(2)));
        last = mb(m.group(3), m.group(4));
        n++;
      } else if (line.contains("gc,heap,exit")) {
        Matcher e = AT_EXIT.matcher(line);
        if (e.find()) {
          atExit = Math.max(0, atExit) + mb(e.group(1), "K");
        }
      }
    }
    // What the heap held at exit, after the last collection, may be the most it ever held.
    return new Heap(Math.max(peak, atExit), last, n);
  }

  private static double mb(String value, String unit) {
    double v = Double.parseDouble(value);
    return switch (unit) {
      case "K" -> v / 1024;
      case "G" -> v * 1024;
      default -> v;
    };
  }
}
