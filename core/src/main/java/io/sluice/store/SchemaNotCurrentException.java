package io.sluice.store;

import io.sluice.SluiceException;

/**
 * The database schema is missing or older than this build expects, and this process was told not to
 * migrate it ({@code SLUICE_MIGRATE=false}); the message says what to run.
 */
public final class SchemaNotCurrentException extends SluiceException {
  public SchemaNotCurrentException(String message) {
    super(message);
  }
}
