package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** File helpers for the embedded servers and their users. */
public final class FileTrees {
  private FileTrees() {}

  /**
   * Deletes a directory tree; a missing directory is fine, and a file that cannot be deleted is
   * left.
   *
   * @param root the directory
   */
  public static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(FileTrees::deleteQuietly);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + root, e);
    }
  }

  /**
   * The last lines of a log file, for error messages that should say why a process died.
   *
   * @param file the log
   * @param lines how many lines at most
   * @return the lines, or a note saying there is no readable log
   */
  public static String tail(Path file, int lines) {
    try {
      if (file == null || !Files.exists(file)) {
        return "(no log)";
      }
      var all = Files.readAllLines(file);
      return String.join(
          System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // A file that another process still holds open; the temp cleaner will get it later.
    }
  }
}
