package io.sluice.api;

/** Thrown by a handler for a failure that no retry can fix; the task fails at once. */
public class NonRetryableException extends RuntimeException {
  public NonRetryableException(String message) {
    super(message);
  }

  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
