package io.sluice.embedded;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Creates and drops throw-away PostgreSQL databases for tests and benchmarks on a server that may
 * be shared: names are made up here, and only a database that the caller created is ever dropped.
 */
public final class ScratchDatabases {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final String OBJECT_IN_USE = "55006";

  /** Opens an administrative connection (to a database other than the scratch one). */
  @FunctionalInterface
  public interface ConnectionSource {
    /**
     * @return a new connection the caller closes
     * @throws SQLException if the server refuses
     */
    Connection open() throws SQLException;
  }

  private ScratchDatabases() {}

  /**
   * @param prefix the start of the name, e.g. {@code sluice_t_} or {@code t}
   * @param length how many random characters from {@code [a-z0-9]} follow
   * @return a name that is also a valid unquoted identifier and Redis prefix
   */
  public static String randomName(String prefix, int length) {
    StringBuilder sb = new StringBuilder(prefix);
    for (int i = 0; i < length; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  /**
   * Creates a database.
   *
   * @param admin where to run {@code CREATE DATABASE}
   * @param name lower-case letters, digits and underscores, starting with a letter or underscore
   */
  /** Connections to {@code url} as {@code user} (either may be null) through the JDBC driver. */
  public static ConnectionSource at(String url, String user, String password) {
    return () -> {
      Properties props = new Properties();
      if (user != null) {
        props.setProperty("user", user);
      }
      if (password != null) {
        props.setProperty("password", password);
      }
      return DriverManager.getConnection(url, props);
    };
  }

  public static void create(ConnectionSource admin, String name) {
    check(name);
    try (Connection c = admin.open();
        Statement s = c.createStatement()) {
      // Identifiers cannot be bind parameters; check() keeps this safe.
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "could not create database " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Terminates the connections to a database and drops it; a missing database is fine.
   *
   * @param admin where to run the statements; must not be connected to {@code name}
   * @param name the database the caller created
   */
  public static void drop(ConnectionSource admin, String name) {
    check(name);
    // Pools of the code under test may still hold connections, and may reconnect once: retry
    // briefly.
    for (int attempt = 1; ; attempt++) {
      try (Connection c = admin.open();
          PreparedStatement terminate =
              c.prepareStatement(
                  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      + " WHERE datname = ? AND pid <> pg_backend_pid()");
          Statement drop = c.createStatement()) {
        terminate.setString(1, name);
        terminate.execute();
        drop.execute("DROP DATABASE IF EXISTS " + name);
        return;
      } catch (SQLException e) {
        if (!OBJECT_IN_USE.equals(e.getSQLState()) || attempt >= 20) {
          throw new IllegalStateException(
              "could not drop database " + name + ": " + e.getMessage(), e);
        }
        sleep(100L * attempt);
      }
    }
  }

  private static void check(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "database name '" + name + "' must match " + NAME.pattern());
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dropping a database", e);
    }
  }
}
