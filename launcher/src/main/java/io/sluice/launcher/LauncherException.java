package io.sluice.launcher;

/** A failure the launcher reports as one message and an exit code, without a stack trace. */
final class LauncherException extends RuntimeException {
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

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
