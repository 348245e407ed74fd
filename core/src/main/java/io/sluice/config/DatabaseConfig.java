package io.sluice.config;

/** Where PostgreSQL is, how many connections to use, and how long a call may take. */
public record DatabaseConfig(
    String jdbcUrl, String user, String password, int poolSize, DatabaseTimeouts timeouts) {

  /** With the default timeouts ({@link DatabaseTimeouts#DEFAULTS}). */
  public DatabaseConfig(String jdbcUrl, String user, String password, int poolSize) {
    this(jdbcUrl, user, password, poolSize, DatabaseTimeouts.DEFAULTS);
  }

  public DatabaseConfig {
    if (timeouts == null) {
      timeouts = DatabaseTimeouts.DEFAULTS;
    }
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new ConfigException(
          "SLUICE_DATABASE_URL",
          jdbcUrl,
          "must be a JDBC URL starting with jdbc:postgresql:, e.g. jdbc:postgresql://db:5432/sluice,"
              + " with the user and password in SLUICE_DATABASE_USER and SLUICE_DATABASE_PASSWORD");
    }
    if (jdbcUrl.matches("jdbc:postgresql://[^?]*@.*")) {
      // The driver would read the credentials as part of the host name and print them.
      throw new ConfigException(
          "SLUICE_DATABASE_URL",
          jdbcUrl,
          "must not hold credentials before the host; give them in SLUICE_DATABASE_USER and"
              + " SLUICE_DATABASE_PASSWORD");
    }
    if (poolSize < 1 || poolSize > 200) {
      throw new ConfigException(
          "SLUICE_DATABASE_POOL_SIZE", String.valueOf(poolSize), "must be between 1 and 200");
    }
  }

  public static DatabaseConfig fromEnv(Env env, int defaultPoolSize) {
    return new DatabaseConfig(
        env.require(
            "SLUICE_DATABASE_URL",
            "the PostgreSQL JDBC URL, e.g. jdbc:postgresql://db:5432/sluice"),
        env.get("SLUICE_DATABASE_USER"),
        env.get("SLUICE_DATABASE_PASSWORD"),
        env.intValue("SLUICE_DATABASE_POOL_SIZE", defaultPoolSize, 1, 200),
        DatabaseTimeouts.fromEnv(env));
  }

  /** The JDBC URL with any password parameter masked, for logs. */
  public String maskedUrl() {
    return Redact.text(jdbcUrl);
  }

  @Override
  public String toString() {
    return "DatabaseConfig[url="
        + maskedUrl()
        + ", user="
        + user
        + ", password="
        + (password == null ? "none" : "****")
        + ", poolSize="
        + poolSize
        + ", "
        + timeouts
        + "]";
  }
}
