package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HealthProbeTest {
  @Test
  void exitsZeroOnlyWhenTheUrlAnswers2xx() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/ready",
        ex -> {
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.createContext(
        "/down",
        ex -> {
          ex.sendResponseHeaders(503, -1);
          ex.close();
        });
    server.start();
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort();
      assertThat(HealthProbe.probe(new String[] {base + "/ready"})).isZero();
      assertThat(HealthProbe.probe(new String[] {base + "/down", "1"})).isEqualTo(1);
      assertThat(HealthProbe.probe(new String[] {})).isEqualTo(2);
      assertThat(HealthProbe.probe(new String[] {base, "soon"})).isEqualTo(2);
    } finally {
      server.stop(0);
    }
    assertThat(
            HealthProbe.probe(
                new String[] {"http://127.0.0.1:" + server.getAddress().getPort() + "/ready", "1"}))
        .as("nothing listens any more")
        .isEqualTo(1);
  }
}
