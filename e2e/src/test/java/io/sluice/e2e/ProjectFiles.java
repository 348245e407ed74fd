package io.sluice.e2e;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Files of the project outside this module (the compose folder, docs), found from the working dir.
 */
final class ProjectFiles {
  private ProjectFiles() {}

  /** The file at {@code relative} under the project's root, the first folder upwards holding it. */
  static Path find(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(relative);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        relative + " not found above " + Path.of("").toAbsolutePath() + ": run from the project");
  }
}
