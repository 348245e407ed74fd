package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KeepAliveClientTest {
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private final ConcurrentHashMap<String, Boolean> remotes = new ConcurrentHashMap<>();
  private volatile CountDownLatch hold = new CountDownLatch(0);

  @BeforeEach
  void start() throws IOException {
    start(0);
  }

  private void start(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/api/v1/jobs",
        exchange -> {
          requests.incrementAndGet();
          remotes.put(exchange.getRemoteAddress().toString(), true);
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          try {
            hold.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] answer =
              ("{\"got\":" + body + ",\"auth\":\"" + auth + "\"}").getBytes(StandardCharsets.UTF_8);
          boolean chunked = exchange.getRequestURI().getQuery() != null;
          exchange.sendResponseHeaders(201, chunked ? 0 : answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private URI uri(String query) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api/v1/jobs" + query);
  }

  @Test
  void sendsTheBodyAndHeadersAndReusesOneConnectionWhenRequestsFollowEachOther()
      throws IOException {
    try (var client =
        new KeepAliveClient(
            uri(""), "{\"a\":1}", Duration.ofSeconds(5), "Authorization: Bearer t")) {
      for (int i = 0; i < 50; i++) {
        var answer = client.send();
        assertThat(answer.status()).isEqualTo(201);
        assertThat(answer.body()).isEqualTo("{\"got\":{\"a\":1},\"auth\":\"Bearer t\"}");
      }
      assertThat(requests.get()).isEqualTo(50);
      assertThat(remotes).hasSize(1);
      assertThat(client.idleConnections()).isEqualTo(1);
    }
  }

  @Test
  void readsChunkedAnswers() throws IOException {
    try (var client = new KeepAliveClient(uri("?chunked"), "{}", Duration.ofSeconds(5))) {
      assertThat(client.send().body()).isEqualTo("{\"got\":{},\"auth\":\"null\"}");
      assertThat(client.send().status()).isEqualTo(201);
      assertThat(remotes).hasSize(1);
    }
  }

  @Test
  void opensAConnectionPerRequestInFlight() throws Exception {
    hold = new CountDownLatch(1);
    try (var client = new KeepAliveClient(uri(""), "{}", Duration.ofSeconds(10))) {
      List<Thread> threads = new ArrayList<>();
      AtomicInteger ok = new AtomicInteger();
      for (int i = 0; i < 8; i++) {
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        if (client.send().status() == 201) {
                          ok.incrementAndGet();
                        }
                      } catch (IOException e) {
                        throw new IllegalStateException(e);
                      }
                    }));
      }
      while (requests.get() < 8) {
        Thread.sleep(10);
      }
      hold.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertThat(ok.get()).isEqualTo(8);
      assertThat(remotes).hasSize(8);
      assertThat(client.idleConnections()).isEqualTo(8);
    }
  }

  @Test
  void parsesContentLengthChunkedAndCloseDelimitedAnswers() throws IOException {
    var chunked =
        KeepAliveClient.Response.read(
            stream(
                "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"));
    assertThat(chunked).isEqualTo(new KeepAliveClient.Response(503, "hello world", true));
    var closing =
        KeepAliveClient.Response.read(
            stream(
                "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nokEXTRA"));
    assertThat(closing).isEqualTo(new KeepAliveClient.Response(201, "ok", false));
    var toEof = KeepAliveClient.Response.read(stream("HTTP/1.0 200 OK\r\n\r\nall of it"));
    assertThat(toEof).isEqualTo(new KeepAliveClient.Response(200, "all of it", false));
  }

  @Test
  void aCutAnswerIsAnErrorAndTheNextRequestGetsAFreshConnection() throws IOException {
    var cut = stream("HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc");
    assertThatThrownBy(() -> KeepAliveClient.Response.read(cut))
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("7 bytes early");
    assertThatThrownBy(() -> KeepAliveClient.Response.read(stream("SSH-2.0-OpenSSH\r\n")))
        .hasMessageContaining("not an HTTP/1.x answer");
    try (var client = new KeepAliveClient(uri(""), "{}", Duration.ofSeconds(5))) {
      assertThat(client.send().status()).isEqualTo(201);
      int port = server.getAddress().getPort();
      server.stop(0);
      start(port);
      // The idle connection went with the old server: that send fails (a POST is not sent again)
      // and drops it, and the next one connects afresh.
      assertThatThrownBy(client::send).isInstanceOf(IOException.class);
      assertThat(client.idleConnections()).isZero();
      assertThat(client.send().status()).isEqualTo(201);
      assertThat(client.idleConnections()).isEqualTo(1);
    }
  }

  private static ByteArrayInputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }
}
