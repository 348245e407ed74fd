package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What the fault tests that run coordinators as child JVMs share: starting a JVM the same way, and
 * the few HTTP calls they make to a coordinator with one token.
 */
final class ChildApi {
  private final HttpClient http = HttpClient.newHttpClient();
  private final String token;

  ChildApi(String token) {
    this.token = token;
  }

  /** A coordinator's or worker's main in a JVM of its own, logging to {@code logs/name.log}. */
  static ChildJvm start(String main, String name, Map<String, String> vars, Path logs)
      throws Exception {
    return ChildJvm.builder(main)
        .name(name)
        .classpath(ChildJvm.currentClasspath())
        .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
        .env(vars)
        .logFile(logs.resolve(name + ".log"))
        .start();
  }

  /** Submits {@code body} to the coordinator at {@code base}; expects 201, returns the job id. */
  String submit(String base, String body) {
    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.read(r.body()).get("id").asText();
  }

  JsonNode job(String base, String id) {
    return Json.read(
        send(HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs/" + id))
                .header("Authorization", "Bearer " + token))
            .body());
  }

  HttpResponse<String> get(String url) {
    return send(HttpRequest.newBuilder(URI.create(url)));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(
          request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.build().uri() + " failed", e);
    }
  }
}
