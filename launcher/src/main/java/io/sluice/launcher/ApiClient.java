package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The coordinator's HTTP API as the launcher uses it (JDK {@code HttpClient} and Jackson only).
 * Failures become {@link LauncherException}s that say what to do: unreachable coordinator, or the
 * server's own error JSON with its status.
 */
final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration SUBMIT_TIMEOUT = Duration.ofSeconds(120);

  private final URI base;
  private final String token;
  private final HttpClient http;

  ApiClient(String baseUrl, String token) {
    this.base =
        URI.create(baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl);
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /**
   * {@code SLUICE_API_URL} (default {@code http://127.0.0.1:8080}) and {@code SLUICE_API_TOKEN}.
   */
  static ApiClient fromEnv() {
    String url = System.getenv("SLUICE_API_URL");
    return new ApiClient(
        url == null || url.isBlank() ? "http://127.0.0.1:8080" : url.trim(),
        System.getenv("SLUICE_API_TOKEN"));
  }

  URI base() {
    return base;
  }

  JobView submit(String type, JsonNode payload) {
    ObjectNode body = JSON.createObjectNode().put("type", type).set("payload", payload);
    return new JobView(send(post("/api/v1/jobs", body.toString()).timeout(SUBMIT_TIMEOUT)));
  }

  JobView job(String id) {
    return new JobView(send(get("/api/v1/jobs/" + encode(id))));
  }

  JsonNode cancel(String id) {
    return send(post("/api/v1/jobs/" + encode(id) + "/cancel", "{}"));
  }

  /** Whether {@code GET /health/ready} answers 200; false while the process is starting or down. */
  boolean ready() {
    try {
      HttpRequest request = get("/health/ready").timeout(Duration.ofSeconds(2)).build();
      return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LauncherException(LauncherException.FAILED, "interrupted", e);
    }
  }

  private HttpRequest.Builder get(String path) {
    return request(path).GET().timeout(READ_TIMEOUT);
  }

  private HttpRequest.Builder post(String path, String body) {
    return request(path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
        .timeout(READ_TIMEOUT);
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).header("Accept", "application/json");
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token.trim());
    }
    return b;
  }

  private JsonNode send(HttpRequest.Builder builder) {
    HttpRequest request = builder.build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw unreachable(e);
    } catch (IOException e) {
      if (e.getCause() instanceof ConnectException) {
        throw unreachable(e);
      }
      throw new LauncherException(
          LauncherException.FAILED, request.method() + " " + request.uri() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LauncherException(LauncherException.FAILED, "interrupted", e);
    }
    JsonNode body = parse(response.body());
    if (response.statusCode() >= 300) {
      throw new LauncherException(
          LauncherException.FAILED,
          "the coordinator answered "
              + response.statusCode()
              + " to "
              + request.method()
              + " "
              + request.uri().getPath()
              + ": "
              + (body.has("error") ? body.toString() : response.body()));
    }
    return body;
  }

  private LauncherException unreachable(Exception e) {
    return new LauncherException(
        LauncherException.UNREACHABLE,
        "cannot reach the coordinator at "
            + base
            + " ("
            + (e.getMessage() != null
                ? e.getMessage()
                : e instanceof ConnectException || e.getCause() instanceof ConnectException
                    ? "connection refused"
                    : e.getClass().getSimpleName())
            + "). Is it running? Point SLUICE_API_URL at it.",
        e);
  }

  private static JsonNode parse(String body) {
    try {
      return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      // Not JSON (a proxy's HTML page, say): keep the text so the message can show it.
      return JSON.createObjectNode().put("body", body);
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
