package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Java main class running in a child process, started with the same {@code java} binary as this
 * JVM. Its standard output and error go to a log file. Tests use it to kill ({@code SIGKILL}), stop
 * ({@code SIGTERM}), pause ({@code SIGSTOP}) and resume ({@code SIGCONT}) real workers.
 *
 * <p>Children still alive when this JVM exits normally (or on {@code SIGTERM}/Ctrl-C) are killed,
 * so a failed test or an interrupted demo does not leave processes behind.
 */
public final class ChildJvm implements AutoCloseable {
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration REAP_GRACE = Duration.ofSeconds(5);
  private static final Set<ChildJvm> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::reapAll, "child-jvm-reaper"));
  }

  private final String name;
  private final Process process;
  private final Path logFile;

  private ChildJvm(String name, Process process, Path logFile) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
  }

  /**
   * Starts a child JVM.
   *
   * @param spec what to run and how
   * @return the running child
   */
  public static ChildJvm start(ChildJvmSpec spec) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(spec.jvmArgs());
    command.add("-cp");
    command.add(spec.classpath());
    command.add(spec.mainClass());
    command.addAll(spec.args());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(spec.env());
    try {
      Files.createDirectories(spec.logFile().toAbsolutePath().getParent());
      builder.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()));
      ChildJvm child = new ChildJvm(spec.name(), builder.start(), spec.logFile());
      LIVE.add(child);
      child.process.onExit().thenRun(() -> LIVE.remove(child));
      return child;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "could not start " + spec.name() + " (" + spec.mainClass() + ")", e);
    }
  }

  /**
   * The classpath of this JVM. Under Maven Failsafe that is the real classpath only with {@code
   * <useManifestOnlyJar>false</useManifestOnlyJar>} (set in the parent POM); otherwise it names a
   * single manifest jar.
   *
   * @return {@code System.getProperty("java.class.path")}
   */
  public static String currentClasspath() {
    return System.getProperty("java.class.path");
  }

  /**
   * The {@code java} binary of this JVM, so children run on the same Java version.
   *
   * @return an absolute path
   */
  public static String javaBinary() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * @return the name given in the spec
   */
  public String name() {
    return name;
  }

  /**
   * @return the operating-system process id
   */
  public long pid() {
    return process.pid();
  }

  /**
   * @return the file that receives the child's output
   */
  public Path logFile() {
    return logFile;
  }

  /**
   * @return whether the process is running (a paused process counts as running)
   */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the child at once ({@code SIGKILL}) and waits for it to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitFor(STOP_TIMEOUT);
  }

  /**
   * Asks the child to stop ({@code SIGTERM}) and waits up to 15 s for it to exit, then kills it. A
   * paused child is resumed first, or it could not act on the signal.
   *
   * @return the exit code
   */
  public int stop() {
    if (process.isAlive()) {
      resume();
      process.destroy();
      if (waitFor(STOP_TIMEOUT).isEmpty()) {
        kill();
      }
    }
    return waitFor(STOP_TIMEOUT).orElse(-1);
  }

  /** Pauses the child ({@code SIGSTOP}); it keeps its sockets but runs no code until resumed. */
  public void pause() {
    signal("STOP");
  }

  /** Resumes a paused child ({@code SIGCONT}). */
  public void resume() {
    signal("CONT");
  }

  /**
   * Waits for the child to exit.
   *
   * @param timeout how long to wait
   * @return the exit code, or empty if it still runs
   */
  public OptionalInt waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)
          ? OptionalInt.of(process.exitValue())
          : OptionalInt.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalInt.empty();
    }
  }

  /**
   * The last lines of the child's log, for failure messages.
   *
   * @param lines how many lines
   * @return the text, or a note that there is none
   */
  public String logTail(int lines) {
    return FileTrees.tail(logFile, lines);
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "ChildJvm[" + name + ", pid=" + process.pid() + ", alive=" + process.isAlive() + "]";
  }

  /**
   * At JVM exit: SIGTERM to every live child so it can drain (another hook may be stopping them the
   * same way), then SIGKILL to whatever still runs after a few seconds, e.g. a paused child.
   */
  private static void reapAll() {
    LIVE.forEach(c -> c.process.destroy());
    long deadline = System.nanoTime() + REAP_GRACE.toNanos();
    for (ChildJvm c : LIVE) {
      long left = Math.max(0, deadline - System.nanoTime());
      try {
        if (!c.process.waitFor(left, TimeUnit.NANOSECONDS)) {
          c.process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        c.process.destroyForcibly();
      }
    }
  }

  private void signal(String signal) {
    if (!process.isAlive()) {
      return;
    }
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      String output = new String(kill.getInputStream().readAllBytes()).trim();
      if (kill.waitFor() != 0 && process.isAlive()) {
        throw new IllegalStateException(
            "kill -" + signal + " " + process.pid() + " failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not run kill -" + signal, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling " + name, e);
    }
  }

  /** Builds a {@link ChildJvmSpec}; only the main class and the log file are required. */
  public static ChildJvmSpec.Builder builder(String mainClass) {
    return new ChildJvmSpec.Builder(mainClass);
  }
}
