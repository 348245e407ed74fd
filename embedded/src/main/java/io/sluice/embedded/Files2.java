package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** File helpers shared by the embedded servers. */
final class Files2 {
  private Files2() {}

  /** Deletes a directory tree; a missing directory is fine. */
  static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(Files2::deleteQuietly);
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + root, e);
    }
  }

  /** The last lines of a log file, for error messages that should say why a server died. */
  static String tail(Path file, int lines) {
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
