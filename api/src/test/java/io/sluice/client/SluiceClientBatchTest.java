package io.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SluiceClient#submitBatch} over real HTTP against an in-process server that answers as the
 * contract says (DESIGN.md "Batches, schedules…"): one POST, the bodies in order, the items back in
 * order.
 */
class SluiceClientBatchTest {
  private final ConcurrentLinkedQueue<String> bodies = new ConcurrentLinkedQueue<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicReference<Answer> answer = new AtomicReference<>();
  private HttpServer server;

  private record Answer(int status, String body) {}

  private SluiceClient start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/api/v1/jobs/batch",
        exchange -> {
          requests.incrementAndGet();
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          String sent =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          bodies.add(exchange.getRequestMethod() + " " + auth + " " + sent);
          Answer a = answer.get() != null ? answer.get() : created(sent);
          byte[] out = a.body().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(a.status(), out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    server.start();
    return SluiceClient.create(
        URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "tok-1", null);
  }

  /** 201 with one QUEUED job per submitted body, in order, each naming the body's type. */
  private static Answer created(String sent) {
    ObjectNode reply = Json.object();
    var items = reply.putArray("items");
    for (JsonNode job : Json.read(sent).path("jobs")) {
      items
          .addObject()
          .put("id", UUID.randomUUID().toString())
          .put("type", job.path("type").asText())
          .put("status", "QUEUED")
          .put("version", 1);
    }
    return new Answer(201, Json.write(reply));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private static List<ObjectNode> jobs(int n) {
    List<ObjectNode> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ObjectNode job = Json.object().put("type", "t" + i);
      job.putObject("payload").put("tasks", 1);
      jobs.add(job);
    }
    return jobs;
  }

  @Test
  void oneRequestCarriesEveryBodyInOrderAndTheItemsComeBackInOrder() throws IOException {
    SluiceClient client = start();

    List<JobSnapshot> created = client.submitBatch(jobs(3));

    assertThat(requests).hasValue(1);
    assertThat(bodies)
        .containsExactly(
            "POST Bearer tok-1 {\"jobs\":["
                + "{\"type\":\"t0\",\"payload\":{\"tasks\":1}},"
                + "{\"type\":\"t1\",\"payload\":{\"tasks\":1}},"
                + "{\"type\":\"t2\",\"payload\":{\"tasks\":1}}]}");
    assertThat(created)
        .extracting(j -> j.json().path("type").asText())
        .containsExactly("t0", "t1", "t2");
    assertThat(created).extracting(JobSnapshot::status).containsOnly("QUEUED");
    assertThat(created).extracting(JobSnapshot::version).containsOnly(1L);
  }

  @Test
  void a404FromACoordinatorWithoutBatchesIsARefusalSentOnce() throws IOException {
    SluiceClient client = start();
    answer.set(new Answer(404, "{\"error\":\"no route\"}"));

    assertThatThrownBy(() -> client.submitBatch(jobs(2)))
        .isInstanceOfSatisfying(
            SluiceApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.path()).isEqualTo("/api/v1/jobs/batch");
            });
    assertThat(requests).hasValue(1);
  }

  @Test
  void anUnkeyedBatchIsNotResentAfterA503ButAFullyKeyedOneIs() throws IOException {
    SluiceClient client = start();
    answer.set(new Answer(503, "{\"error\":\"busy\"}"));
    assertThatThrownBy(() -> client.submitBatch(jobs(2))).isInstanceOf(SluiceApiException.class);
    assertThat(requests).hasValue(1);

    List<ObjectNode> keyed = jobs(2);
    keyed.forEach(j -> j.put("idempotencyKey", "k-" + j.path("type").asText()));
    assertThatThrownBy(() -> client.submitBatch(keyed)).isInstanceOf(SluiceApiException.class);
    assertThat(requests.get()).isGreaterThan(2);
  }

  @Test
  void anEmptyOrOversizedBatchIsRefusedBeforeAnythingIsSent() throws IOException {
    SluiceClient client = start();
    assertThatThrownBy(() -> client.submitBatch(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 to 1000");
    assertThatThrownBy(() -> client.submitBatch(jobs(1001)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(requests).hasValue(0);
  }

  @Test
  void anAnswerWithTooFewItemsIsAnError() throws IOException {
    SluiceClient client = start();
    answer.set(new Answer(201, "{\"items\":[{\"id\":\"" + UUID.randomUUID() + "\"}]}"));
    assertThatThrownBy(() -> client.submitBatch(jobs(2)))
        .hasMessageContaining("answered 1 items for 2 jobs");
  }
}
