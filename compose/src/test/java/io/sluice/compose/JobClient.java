package io.sluice.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

/** The job API of a coordinator over real HTTP, as a client outside the compose network sees it. */
final class JobClient {
  private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String token;

  JobClient(String base, String token) {
    this.base = base;
    this.token = token;
  }

  /** Submits a {@code wordcount} job and returns its id; the answer must be 201. */
  String submitWordcount(String text, int linesPerTask, int taskDelayMs) {
    ObjectNode body = Json.object().put("type", "wordcount").put("maxAttempts", 10);
    body.putObject("payload")
        .put("text", text)
        .put("linesPerTask", linesPerTask)
        .put("taskDelayMs", taskDelayMs);
    HttpResponse<String> created =
        send(
            request("/api/v1/jobs")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).path("id").asText();
  }

  JsonNode job(String id) {
    HttpResponse<String> answer = send(request("/api/v1/jobs/" + id).GET());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    return Json.read(answer.body());
  }

  /** Polls the job until it is terminal and returns it. */
  JsonNode awaitTerminal(String id, Duration atMost) {
    JsonNode[] last = new JsonNode[1];
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              last[0] = job(id);
              return TERMINAL.contains(last[0].path("status").asText());
            });
    return last[0];
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(20))
        .header("Authorization", "Bearer " + token);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted calling " + request.build().uri(), e);
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.build().uri() + " failed: " + e, e);
    }
  }
}
