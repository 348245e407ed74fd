package io.sluice.compose;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command line tool (the docker and compose CLIs, {@code standins/build.sh}) with a bound on
 * its time, keeping what it printed for the message of a failure: a test that drives a container
 * engine must stop by itself whatever the engine does.
 */
final class Cli {
  private Cli() {}

  /** What a finished command printed and how it exited. */
  record Result(List<String> command, int exit, String out, String err) {
    /** This result when the command exited 0, else an error naming the command and its output. */
    Result ok() {
      if (exit != 0) {
        throw new AssertionError(String.join(" ", command) + " exited " + exit + ":\n" + out + err);
      }
      return this;
    }

    /** Standard output without surrounding blanks. */
    String text() {
      return out.strip();
    }

    /** Standard output, one entry per non-blank line. */
    List<String> lines() {
      return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
  }

  static Result run(Duration timeout, Path dir, Map<String, String> env, List<String> command) {
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("sluice-cli-", ".out");
      err = Files.createTempFile("sluice-cli-", ".err");
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile());
      builder.environment().putAll(env);
      Process p = builder.start();
      p.getOutputStream().close();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            String.join(" ", command)
                + " still running after "
                + timeout.toSeconds()
                + " s, stopped; it printed:\n"
                + Files.readString(out)
                + Files.readString(err));
      }
      return new Result(command, p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new UncheckedIOException(String.join(" ", command) + " could not run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(String.join(" ", command) + " interrupted", e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // A temp file left behind costs nothing worth failing a test for.
      }
    }
  }
}
