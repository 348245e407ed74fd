package io.sluice.testkit;

import io.sluice.embedded.JdbcUrls;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The isolated resources of one test class: its own PostgreSQL database and its own Redis key
 * prefix. Everything the test writes to Redis must live under {@code redisPrefix + ":"}; that is
 * all the extension deletes afterwards.
 *
 * @param jdbcUrl the JDBC URL of the test's database
 * @param dbUser the database user, or null when the URL carries it
 * @param dbPassword the database password, or null
 * @param redisUrl the Redis URL
 * @param redisPrefix the test's key prefix, without the trailing colon
 * @param databaseName the name of the test's database
 */
public record TestEnvironment(
    String jdbcUrl,
    String dbUser,
    String dbPassword,
    String redisUrl,
    String redisPrefix,
    String databaseName) {

  /**
   * Opens a connection to the test's database.
   *
   * @return a new connection the caller closes
   * @throws SQLException if the server refuses
   */
  public Connection connect() throws SQLException {
    Properties props = new Properties();
    if (dbUser != null) {
      props.setProperty("user", dbUser);
    }
    if (dbPassword != null) {
      props.setProperty("password", dbPassword);
    }
    return DriverManager.getConnection(jdbcUrl, props);
  }

  /**
   * The variables that point a coordinator or worker (in this JVM or a child one) at this
   * environment: {@code SLUICE_REDIS_URL}, {@code SLUICE_REDIS_PREFIX}, {@code SLUICE_DATABASE_URL}
   * and, when set, {@code SLUICE_DATABASE_USER} and {@code SLUICE_DATABASE_PASSWORD}.
   *
   * @return a new mutable map, in that order
   */
  public Map<String, String> sluiceEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SLUICE_REDIS_URL", redisUrl);
    env.put("SLUICE_REDIS_PREFIX", redisPrefix);
    env.put("SLUICE_DATABASE_URL", jdbcUrl);
    if (dbUser != null) {
      env.put("SLUICE_DATABASE_USER", dbUser);
    }
    if (dbPassword != null) {
      env.put("SLUICE_DATABASE_PASSWORD", dbPassword);
    }
    return env;
  }

  @Override
  public String toString() {
    return "TestEnvironment[database="
        + databaseName
        + ", jdbcUrl="
        + JdbcUrls.masked(jdbcUrl)
        + ", redisUrl="
        + redisUrl.replaceAll("//[^@/]*@", "//****@")
        + ", redisPrefix="
        + redisPrefix
        + "]";
  }
}
