package io.sluice.store;

import io.sluice.SluiceException;

/** PostgreSQL cannot be reached now; the caller backs off and tries again. */
public final class DatabaseUnavailableException extends SluiceException {
  public DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
