package io.sluice.config;

import java.time.Duration;

/**
 * How long a PostgreSQL call may take before it fails instead of blocking its thread. Without these
 * a connection whose peer stopped answering (a half-open TCP connection) blocks a read until TCP
 * keepalive gives up, hours later.
 *
 * @param connect opening a connection, and waiting for one from the pool
 * @param statement the server-side {@code statement_timeout} of every statement
 * @param socket the client-side read timeout: no answer at all for this long fails the call. It
 *     must exceed {@code statement}, so a slow statement is cancelled by the server (and the
 *     connection kept) before the client gives the connection up
 * @param bulk the allowance, statement and socket alike, of the few calls that are long by nature:
 *     the COPY of a job's tasks at submit (a million rows) and schema migrations
 */
public record DatabaseTimeouts(
    Duration connect, Duration statement, Duration socket, Duration bulk) {

  public static final DatabaseTimeouts DEFAULTS =
      new DatabaseTimeouts(
          Duration.ofSeconds(5),
          Duration.ofSeconds(15),
          Duration.ofSeconds(20),
          Duration.ofMinutes(10));

  public DatabaseTimeouts {
    atLeast("SLUICE_DATABASE_CONNECT_TIMEOUT", connect, Duration.ofSeconds(1));
    atLeast("SLUICE_DATABASE_STATEMENT_TIMEOUT", statement, Duration.ofMillis(100));
    atLeast("SLUICE_DATABASE_SOCKET_TIMEOUT", socket, Duration.ofSeconds(1));
    atLeast("SLUICE_DATABASE_BULK_TIMEOUT", bulk, Duration.ofSeconds(1));
    if (socketSeconds(socket) * 1000L <= statement.toMillis()) {
      throw new ConfigException(
          "SLUICE_DATABASE_SOCKET_TIMEOUT",
          socket.toString(),
          "must exceed SLUICE_DATABASE_STATEMENT_TIMEOUT ("
              + statement
              + "), so the server cancels a slow statement before the client drops its connection");
    }
    if (bulk.compareTo(statement) < 0) {
      throw new ConfigException(
          "SLUICE_DATABASE_BULK_TIMEOUT",
          bulk.toString(),
          "must be at least SLUICE_DATABASE_STATEMENT_TIMEOUT (" + statement + ")");
    }
  }

  public static DatabaseTimeouts fromEnv(Env env) {
    return new DatabaseTimeouts(
        env.duration("SLUICE_DATABASE_CONNECT_TIMEOUT", DEFAULTS.connect()),
        env.duration("SLUICE_DATABASE_STATEMENT_TIMEOUT", DEFAULTS.statement()),
        env.duration("SLUICE_DATABASE_SOCKET_TIMEOUT", DEFAULTS.socket()),
        env.duration("SLUICE_DATABASE_BULK_TIMEOUT", DEFAULTS.bulk()));
  }

  /** The driver counts its socket timeout in whole seconds; a fraction rounds up. */
  public static int socketSeconds(Duration timeout) {
    return (int) Math.min(Integer.MAX_VALUE, (timeout.toMillis() + 999) / 1000);
  }

  /** The socket timeout of a bulk call: its allowance plus the socket timeout's own margin. */
  public Duration bulkSocket() {
    return bulk.plus(socket.minus(statement));
  }

  private static void atLeast(String name, Duration value, Duration min) {
    if (value == null || value.compareTo(min) < 0) {
      throw new ConfigException(
          name, value == null ? null : value.toString(), "must be at least " + min);
    }
  }
}
