package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.e2e.Corpus;
import io.sluice.testkit.StallingProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A worker whose PostgreSQL connections stop answering mid-job (through a proxy that drops every
 * byte, as a half-open TCP connection does: no reset, no error, nothing) neither hangs nor lies:
 * its calls fail within the socket timeout, readiness says 503, and once new connections work again
 * its writer, renewer and fetch loop carry on, so the job finishes with every task counted once.
 * Without timeouts every thread that was waiting on PostgreSQL waits until TCP keepalive, hours
 * later, and the job never finishes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseStallIT {
  private static final String TEXT = Corpus.text(2_400, 11);
  private static final long WORDS = FaultHarness.countWords(TEXT);
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private FaultHarness harness;
  private StallingProxy proxy;

  @BeforeAll
  void start() throws Exception {
    harness = new FaultHarness();
    proxy = StallingProxy.inFrontOf(harness.postgres.jdbcUrl(FaultHarness.DATABASE));
  }

  @AfterAll
  void stop() {
    if (harness != null) {
      harness.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void aWorkerWhoseConnectionsStopAnsweringFailsFastReportsItAndRecovers() throws Exception {
    Map<String, String> env = harness.workerEnv("behind-proxy");
    env.put("SLUICE_DATABASE_URL", proxy.jdbcUrl());
    env.put("SLUICE_DATABASE_CONNECT_TIMEOUT", "2s");
    env.put("SLUICE_DATABASE_STATEMENT_TIMEOUT", "1s");
    env.put("SLUICE_DATABASE_SOCKET_TIMEOUT", "2s");
    int port = Integer.parseInt(env.get("SLUICE_HTTP_PORT"));
    harness.startWorker(env);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> ready(port) == 200);
    // wordcount ignores cancellation: what is tested here is that nothing blocks, not item 7's
    // handling of handlers told to stop.
    String id = harness.submit(FaultHarness.wordcountBody(TEXT, 10, 100));
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> harness.tasksFinished(id) >= 8);

    proxy.stall();
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> ready(port) == 503);
    // Longer than the lease (3 s) and the socket timeout: every loop has hit a silent connection.
    Awaitility.await().pollDelay(Duration.ofSeconds(6)).until(() -> true);
    proxy.resume();

    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(90));
    harness.assertExactlyOnce(id, job);
    assertThat(job.get("result").get("totalWords").asLong()).isEqualTo(WORDS);
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> ready(port) == 200);
  }

  private int ready(int port) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
