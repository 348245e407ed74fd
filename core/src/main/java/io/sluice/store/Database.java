package io.sluice.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.sluice.SluiceException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.DatabaseTimeouts;
import io.sluice.loop.Backoff;
import java.io.EOFException;
import java.net.ConnectException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL connection pool and the one way to run a transaction: {@link #inTransaction}
 * commits or rolls back as a unit and retries the whole unit on serialization failures and
 * deadlocks, which PostgreSQL resolves by aborting one side.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);
  private static final int MAX_TRIES = 5;
  // 10 ms doubling to 320 ms, each delay drawn from [d, 2d): short, since the conflict that caused
  // a serialization failure is usually over by the next try.
  private static final Backoff RETRY_BACKOFF =
      Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(320)).withJitter(1, 2);

  private final DatabaseConfig config;
  private final HikariDataSource dataSource;
  private final CircuitBreaker breaker;

  public Database(DatabaseConfig config, String poolName) {
    this.config = config;
    this.dataSource =
        pool(config, config.timeouts().statement(), config.timeouts().socket(), poolName);
    this.breaker = CircuitBreaker.of(poolName + "-postgres", breakerConfig());
    breaker
        .getEventPublisher()
        .onStateTransition(
            e ->
                log.warn(
                    "PostgreSQL circuit breaker {}: {}",
                    e.getStateTransition(),
                    e.getStateTransition().getToState() == CircuitBreaker.State.OPEN
                        ? "calls fail fast until PostgreSQL answers again"
                        : "PostgreSQL is being tried again"));
  }

  /**
   * Every call is bounded: connecting by the connect timeout, a statement by the server's {@code
   * statement_timeout}, and waiting for any answer by the driver's socket timeout, which is longer
   * than the statement timeout so it fires only when PostgreSQL (or the path to it) stopped
   * answering. A call that hits it fails as an outage (SQL state 08006) and Hikari drops the
   * connection.
   */
  private static HikariDataSource pool(
      DatabaseConfig config, Duration statementTimeout, Duration socketTimeout, String poolName) {
    DatabaseTimeouts timeouts = config.timeouts();
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setMinimumIdle(Math.min(2, config.poolSize()));
    hikari.setPoolName(poolName);
    hikari.setConnectionTimeout(timeouts.connect().toMillis());
    hikari.setValidationTimeout(Math.min(2_000, timeouts.connect().toMillis() / 2));
    // Start even when PostgreSQL is briefly unreachable; readiness reports it until it answers.
    hikari.setInitializationFailTimeout(-1);
    hikari.setConnectionInitSql("SET statement_timeout = " + statementTimeout.toMillis());
    int connectSeconds = DatabaseTimeouts.socketSeconds(timeouts.connect());
    hikari.addDataSourceProperty("connectTimeout", String.valueOf(connectSeconds));
    hikari.addDataSourceProperty("loginTimeout", String.valueOf(connectSeconds));
    hikari.addDataSourceProperty(
        "socketTimeout", String.valueOf(DatabaseTimeouts.socketSeconds(socketTimeout)));
    hikari.addDataSourceProperty("reWriteBatchedInserts", "true");
    hikari.addDataSourceProperty("tcpKeepAlive", "true");
    return new HikariDataSource(hikari);
  }

  /**
   * Gives the rest of {@code c}'s transaction the bulk allowance ({@code
   * SLUICE_DATABASE_BULK_TIMEOUT}) instead of the statement and socket timeouts: for the COPY of a
   * job's tasks at submit, which for a million tasks outlasts any sensible per-statement bound.
   * Both revert when the transaction ends ({@code SET LOCAL}) and the connection returns to the
   * pool (Hikari resets the network timeout).
   */
  public void allowBulk(Connection c) throws SQLException {
    DatabaseTimeouts timeouts = config.timeouts();
    c.setNetworkTimeout(
        Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeouts.bulkSocket().toMillis()));
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL statement_timeout = " + timeouts.bulk().toMillis());
    }
  }

  /**
   * Opens after half of the last ten calls failed to reach PostgreSQL; probes again after two
   * seconds. Only connection-level failures count: a constraint violation is an answer, not an
   * outage.
   */
  private static CircuitBreakerConfig breakerConfig() {
    return CircuitBreakerConfig.custom()
        .slidingWindowSize(10)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(50)
        .waitDurationInOpenState(Duration.ofSeconds(2))
        .permittedNumberOfCallsInHalfOpenState(2)
        .automaticTransitionFromOpenToHalfOpenEnabled(true)
        .recordException(Database::isOutage)
        .build();
  }

  /** True for failures that mean PostgreSQL is unreachable rather than that it said no. */
  public static boolean isOutage(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof ConnectException
          || t instanceof EOFException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (state.startsWith("08") || state.startsWith("57P") || state.equals("53300")) {
          return true;
        }
      }
    }
    return false;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /** Applies the Flyway migrations; run by coordinators at start, never by workers. */
  public void migrate() {
    // A migration may rewrite or index a large table: its own short-lived pool with the bulk
    // allowance, so the everyday pool's connections never carry it.
    DatabaseTimeouts timeouts = config.timeouts();
    DatabaseConfig two =
        new DatabaseConfig(config.jdbcUrl(), config.user(), config.password(), 2, timeouts);
    try (HikariDataSource migrations =
        pool(two, timeouts.bulk(), timeouts.bulkSocket(), dataSource.getPoolName() + "-migrate")) {
      var result = Flyway.configure().dataSource(migrations).load().migrate();
      log.info(
          "Database schema at version {} ({} migrations applied now)",
          result.targetSchemaVersion,
          result.migrationsExecuted);
    }
  }

  /**
   * Checks, without changing anything, that every migration this build carries has been applied;
   * for a coordinator whose role has no DDL rights ({@code SLUICE_MIGRATE=false}). Reading the
   * schema history needs only SELECT.
   *
   * @return the schema's version
   * @throws SchemaNotCurrentException when the schema is missing or older than this build expects
   */
  public String requireSchemaCurrent() {
    var info = Flyway.configure().dataSource(dataSource).load().info();
    var pending = info.pending();
    var all = info.all();
    String expected = all.length == 0 ? "none" : all[all.length - 1].getVersion().getVersion();
    if (info.current() == null) {
      throw new SchemaNotCurrentException(
          "the database has no Sluice schema (no applied migrations; expected version "
              + expected
              + "): run the migrations first with './sluice migrate' (or io.sluice.coordinator"
              + ".MigrateMain) as a role that may create tables, or set SLUICE_MIGRATE=true");
    }
    String current = info.current().getVersion().getVersion();
    if (pending.length > 0) {
      throw new SchemaNotCurrentException(
          "the database schema is at version "
              + current
              + " but this build expects "
              + expected
              + " ("
              + pending.length
              + " migration(s) pending): run './sluice migrate' (or io.sluice.coordinator"
              + ".MigrateMain) first, or set SLUICE_MIGRATE=true");
    }
    log.info("Database schema at version {}, as expected (migrations left to others)", current);
    return current;
  }

  /** Work done inside one transaction. */
  @FunctionalInterface
  public interface TxWork<T> {
    T run(Connection connection) throws SQLException;
  }

  public <T> T inTransaction(TxWork<T> work) {
    return guarded(() -> transactionWithRetries(work));
  }

  private <T> T transactionWithRetries(TxWork<T> work) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          T result = work.run(c);
          c.commit();
          return result;
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw e;
        }
      } catch (SQLException e) {
        if (!isTransient(e) || attempt >= MAX_TRIES) {
          throw new StoreException("transaction failed after " + attempt + " attempt(s)", e);
        }
        log.debug(
            "Retrying transaction after {} (attempt {} of {})",
            e.getSQLState(),
            attempt,
            MAX_TRIES);
        sleepBackoff(attempt);
      }
    }
  }

  /** Runs a read or a single statement with auto-commit. */
  public <T> T query(TxWork<T> work) {
    return guarded(
        () -> {
          try (Connection c = dataSource.getConnection()) {
            return work.run(c);
          } catch (SQLException e) {
            throw new StoreException("query failed", e);
          }
        });
  }

  private <T> T guarded(Supplier<T> call) {
    try {
      return breaker.executeSupplier(call);
    } catch (CallNotPermittedException e) {
      throw new DatabaseUnavailableException(
          "PostgreSQL is unreachable (circuit open after repeated connection failures); retry shortly",
          e);
    }
  }

  /** True when PostgreSQL answers a trivial query within a second. */
  public boolean ping() {
    try (Connection c = dataSource.getConnection()) {
      return c.isValid(1);
    } catch (SQLException e) {
      return false;
    }
  }

  /** Serialization failure, deadlock: retrying the whole transaction is correct. */
  static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    return "40001".equals(state) || "40P01".equals(state);
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; Hikari discards it.
    }
  }

  private static void sleepBackoff(int attempt) {
    try {
      Thread.sleep(RETRY_BACKOFF.delayMillis(attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted while retrying a transaction", e);
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
