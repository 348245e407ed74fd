package io.sluice.launcher;

/**
 * A failure the launcher reports as one message and an exit code, without a stack trace. The exit
 * codes are a contract with scripts ({@code ./sluice help} and the README list them).
 */
final class LauncherException extends RuntimeException {
  /** The server answered with an error, the job ended FAILED, or the work could not be done. */
  static final int FAILED = 1;

  /** Bad arguments or configuration: nothing was sent. */
  static final int USAGE = 2;

  /** No HTTP answer at all from the coordinator (or, for {@code drain}, the worker). */
  static final int UNREACHABLE = 3;

  /** The job that {@code --wait} or {@code --watch} followed ended CANCELLED. */
  static final int CANCELLED = 4;

  private final int exitCode;

  LauncherException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  LauncherException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  static LauncherException usage(String message) {
    return new LauncherException(USAGE, message + " (see ./sluice help)");
  }

  int exitCode() {
    return exitCode;
  }
}
