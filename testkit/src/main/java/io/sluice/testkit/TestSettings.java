package io.sluice.testkit;

import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.JdbcUrls;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Where the tests' Redis and PostgreSQL are. Read from the environment:
 *
 * <ul>
 *   <li>{@code SLUICE_TEST_REDIS_URL}, e.g. {@code redis://127.0.0.1:6379};
 *   <li>{@code SLUICE_TEST_DATABASE_URL}, a JDBC URL of a database the tests may connect to in
 *       order to create and drop their own databases, e.g. {@code
 *       jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres};
 *   <li>{@code SLUICE_TEST_DATABASE_USER} and {@code SLUICE_TEST_DATABASE_PASSWORD}, when the URL
 *       does not carry them.
 * </ul>
 *
 * When a URL is not set, an embedded server is started instead, once per JVM, and stopped when the
 * JVM exits.
 */
public final class TestSettings {
  /** The variable naming the Redis server. */
  public static final String REDIS_URL = "SLUICE_TEST_REDIS_URL";

  /** The variable naming the PostgreSQL server, as a JDBC URL. */
  public static final String DATABASE_URL = "SLUICE_TEST_DATABASE_URL";

  /** The variable naming the PostgreSQL user, when the URL does not. */
  public static final String DATABASE_USER = "SLUICE_TEST_DATABASE_USER";

  /** The variable giving the PostgreSQL password, when the URL does not. */
  public static final String DATABASE_PASSWORD = "SLUICE_TEST_DATABASE_PASSWORD";

  private static final TestSettings SYSTEM = new TestSettings(System::getenv);

  private final Function<String, String> env;

  private TestSettings(Function<String, String> env) {
    this.env = env;
  }

  /**
   * @return the settings from this process's environment
   */
  public static TestSettings get() {
    return SYSTEM;
  }

  /**
   * Settings from the given variables instead of the process environment.
   *
   * @param env variable names to values; missing names count as unset
   * @return the settings
   */
  public static TestSettings fromEnv(Map<String, String> env) {
    Map<String, String> copy = Map.copyOf(env);
    return new TestSettings(copy::get);
  }

  /**
   * @return whether Redis is an embedded server started by this JVM
   */
  public boolean embeddedRedis() {
    return value(REDIS_URL) == null;
  }

  /**
   * @return whether PostgreSQL is an embedded server started by this JVM
   */
  public boolean embeddedPostgres() {
    return value(DATABASE_URL) == null;
  }

  /**
   * @return the Redis URL, starting the embedded server on first use when none is configured
   */
  public String redisUrl() {
    String url = value(REDIS_URL);
    return url != null ? url : EmbeddedServers.redis().url();
  }

  /**
   * @return the JDBC URL of the administrative database, starting the embedded server on first use
   *     when none is configured
   */
  public String adminJdbcUrl() {
    String url = value(DATABASE_URL);
    return url != null ? url : EmbeddedServers.postgres().jdbcUrl("postgres");
  }

  /**
   * @return the database user: {@code SLUICE_TEST_DATABASE_USER}, else the URL's {@code user}
   *     parameter, else {@code postgres} for the embedded server; may be null
   */
  public String dbUser() {
    String user = value(DATABASE_USER);
    if (user == null) {
      user = JdbcUrls.parameter(adminJdbcUrl(), "user");
    }
    return user == null && embeddedPostgres() ? EmbeddedPostgres.USER : user;
  }

  /**
   * @return the database password: {@code SLUICE_TEST_DATABASE_PASSWORD}, else the URL's {@code
   *     password} parameter; may be null
   */
  public String dbPassword() {
    String password = value(DATABASE_PASSWORD);
    return password != null ? password : JdbcUrls.parameter(adminJdbcUrl(), "password");
  }

  /**
   * The JDBC URL of another database on the same server.
   *
   * @param database the database name
   * @return the admin URL with its database replaced
   */
  public String jdbcUrl(String database) {
    return JdbcUrls.withDatabase(adminJdbcUrl(), database);
  }

  /**
   * Opens a connection to a database on the configured server.
   *
   * @param database the database name
   * @return a new connection the caller closes
   * @throws SQLException if the server refuses
   */
  public Connection connect(String database) throws SQLException {
    Properties props = new Properties();
    if (dbUser() != null) {
      props.setProperty("user", dbUser());
    }
    if (dbPassword() != null) {
      props.setProperty("password", dbPassword());
    }
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /**
   * @return the database name in the admin URL
   */
  String adminDatabase() {
    return JdbcUrls.database(adminJdbcUrl());
  }

  @Override
  public String toString() {
    return "TestSettings[redis="
        + (embeddedRedis() ? "embedded" : value(REDIS_URL))
        + ", postgres="
        + (embeddedPostgres() ? "embedded" : JdbcUrls.masked(value(DATABASE_URL)))
        + "]";
  }

  private String value(String name) {
    String v = env.apply(name);
    // Maven passes an unset ${env.X} through literally; that means "not set" too.
    return v == null || v.isBlank() || v.startsWith("${") ? null : v.trim();
  }
}
