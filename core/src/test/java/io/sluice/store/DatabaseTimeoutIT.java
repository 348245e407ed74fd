package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.DatabaseTimeouts;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.StallingProxy;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every PostgreSQL call is bounded in time: a connection that stops answering (through a proxy that
 * drops everything, like a half-open TCP connection) fails the call as an outage within the socket
 * timeout instead of blocking until TCP keepalive, hours later; a slow statement is cancelled by
 * the server; the COPY of a big job at submit has its own allowance.
 */
@ExtendWith(SluiceTestExtension.class)
class DatabaseTimeoutIT {
  private static final DatabaseTimeouts SHORT =
      new DatabaseTimeouts(
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          Duration.ofSeconds(30));

  /** Far beyond every timeout above and far below TCP keepalive's two hours. */
  private static final Duration BOUND = Duration.ofSeconds(30);

  private static TestEnvironment env;
  private static StallingProxy proxy;
  private static Database viaProxy;
  private static Database direct;
  private static final ExecutorService caller = Executors.newCachedThreadPool();

  @BeforeAll
  static void start(TestEnvironment testEnv) {
    env = testEnv;
    proxy = StallingProxy.inFrontOf(env.jdbcUrl());
    viaProxy = new Database(config(proxy.jdbcUrl(), 1), "via-proxy");
    direct = new Database(config(env.jdbcUrl(), 2), "direct");
    direct.migrate();
  }

  @AfterAll
  static void stop() {
    caller.shutdownNow();
    viaProxy.close();
    direct.close();
    proxy.close();
  }

  @Test
  void aTransactionOnAConnectionThatStopsAnsweringFailsAsAnOutageAndThePoolRecovers()
      throws Exception {
    assertThat(viaProxy.<Integer>query(c -> selectOne(c, 1))).isEqualTo(1);

    Future<Integer> blocked =
        caller.submit(
            () ->
                viaProxy.inTransaction(
                    c -> {
                      selectOne(c, 1);
                      proxy.stall(); // mid-transaction, like a writer's batch
                      return selectOne(c, 2);
                    }));

    Throwable failure = failureWithin(blocked);
    assertThat(Database.isOutage(failure))
        .as("a silent connection counts as an outage (circuit breaker, health): %s", failure)
        .isTrue();
    assertThat(callWithin(viaProxy::ping)).as("health sees PostgreSQL unreachable").isFalse();

    proxy.resume();
    await().atMost(BOUND).ignoreExceptions().until(() -> viaProxy.query(c -> selectOne(c, 3)) == 3);
    assertThat(viaProxy.ping()).isTrue();
  }

  @Test
  void aStatementThatRunsPastTheStatementTimeoutIsCancelledByTheServerAndTheConnectionKept()
      throws Exception {
    Future<Object> slow =
        caller.submit(
            () ->
                direct.query(
                    c -> {
                      try (Statement s = c.createStatement()) {
                        return s.execute("SELECT pg_sleep(60)");
                      }
                    }));

    Throwable failure = failureWithin(slow);
    assertThat(failure).isInstanceOf(StoreException.class);
    assertThat(((StoreException) failure).sqlState()).as("query_canceled").isEqualTo("57014");
    assertThat(Database.isOutage(failure)).as("the server answered: not an outage").isFalse();
    assertThat(direct.<Integer>query(c -> selectOne(c, 4))).isEqualTo(4);
  }

  @Test
  void theCopyOfAJobsTasksAtSubmitMayOutlastTheStatementTimeout() throws Exception {
    int rows = 3 * 2_000;
    UUID withAllowance = UUID.randomUUID();
    int written =
        caller.submit(() -> storeSlowly(withAllowance, rows, true)).get(60, TimeUnit.SECONDS);
    assertThat(written).isEqualTo(rows);
    assertThat(taskRows(withAllowance)).isEqualTo(rows);
    assertThat(direct.query(DatabaseTimeoutIT::statementTimeout))
        .as("the allowance ended with its transaction")
        .isEqualTo("1s");

    UUID without = UUID.randomUUID();
    Throwable cut = failureWithin(caller.submit(() -> storeSlowly(without, rows, false)));
    assertThat(cut).hasStackTraceContaining("57014");
    assertThat(taskRows(without)).isZero();
  }

  // --- helpers ---

  private static DatabaseConfig config(String url, int poolSize) {
    return new DatabaseConfig(url, env.dbUser(), env.dbPassword(), poolSize, SHORT);
  }

  /** A job whose splitter needs longer than the statement timeout, as a million-row one does. */
  private static int storeSlowly(UUID jobId, int rows, boolean allowBulk) {
    Splitter slow =
        (payload, sink) -> {
          for (int i = 0; i < rows; i++) {
            sink.accept(Json.object().put("pad", "x".repeat(40)).put("i", i));
            if (i % 2_000 == 1_999) {
              Thread.sleep(800); // slow splitting, not synchronisation: 2.4 s in all
            }
          }
        };
    PostgresJobStore jobs = new PostgresJobStore();
    return direct.inTransaction(
        c -> {
          if (allowBulk) {
            direct.allowBulk(c);
          }
          jobs.insert(c, aJob().withId(jobId).withPayload(Json.object()).build());
          try {
            int n =
                new PostgresTaskStore()
                    .insertTasks(c, jobId, Stage.main(jobId), slow, new Payload(Json.object()));
            jobs.setTaskCount(c, jobId, n);
            return n;
          } catch (SQLException | RuntimeException e) {
            throw e;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private static int taskRows(UUID jobId) {
    return direct.query(
        c -> {
          try (var ps = c.prepareStatement("SELECT count(*) FROM tasks WHERE job_id = ?")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }

  private static String statementTimeout(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static int selectOne(Connection c, int value) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT " + value)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The call's failure; a call still blocked after {@link #BOUND} fails the test. */
  private static Throwable failureWithin(Future<?> call) throws InterruptedException {
    try {
      Object result = call.get(BOUND.toSeconds(), TimeUnit.SECONDS);
      throw new AssertionError("the call was meant to fail but returned " + result);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("the call still blocks after " + BOUND + ": no timeout bounds it");
    }
  }

  private static <T> T callWithin(Callable<T> call) throws Exception {
    try {
      return caller.submit(call).get(BOUND.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the call still blocks after " + BOUND + ": no timeout bounds it");
    }
  }
}
