package io.sluice.store;

import io.sluice.SluiceException;
import java.sql.SQLException;

/** PostgreSQL could not do what was asked; the message names the SQL state. */
public final class StoreException extends SluiceException {
  public StoreException(String message, SQLException cause) {
    super(message + " (SQL state " + cause.getSQLState() + ": " + cause.getMessage() + ")", cause);
  }

  public String sqlState() {
    return ((SQLException) getCause()).getSQLState();
  }
}
