package io.sluice.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.SluiceApiException;
import io.sluice.client.SluiceClient;
import io.sluice.json.Json;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import redis.clients.jedis.JedisPooled;

/**
 * The tests' side of the job API over real HTTP, for the tests of a {@link Stack}: what a test sets
 * up or reads goes through {@link SluiceClient}, the one Java client; what a test asserts an answer
 * of (statuses, headers, bad tokens, bad headers) is sent as raw HTTP, exactly as given.
 */
final class JobApi {
  private final Stack stack;
  private final HttpClient http = HttpClient.newHttpClient();
  private final SluiceClient submitter;
  // The admin token reads every tenant's jobs, as Stack#get does.
  private final SluiceClient reader;

  JobApi(Stack stack) {
    this.stack = stack;
    this.submitter = SluiceClient.create(URI.create(stack.api()), Stack.TOKEN, null);
    this.reader = SluiceClient.create(URI.create(stack.api()), Stack.ADMIN_TOKEN, null);
  }

  /**
   * Submits (once, no idempotency key) and returns the new job's id; fails the test on a refusal.
   */
  UUID create(String body) {
    try {
      return submitter.submit((ObjectNode) Json.read(body)).id();
    } catch (SluiceApiException e) {
      throw new AssertionError("submit answered " + e.status() + ": " + e.rawBody(), e);
    }
  }

  /** Submits and waits until the job is dispatched (RUNNING), so its version stops moving. */
  UUID createRunning(String body) {
    UUID id = create(body);
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> job(id).get("status").asText().equals("RUNNING"));
    return id;
  }

  /** A GET of any URL (a worker's own port, another coordinator). */
  static HttpResponse<String> get(String url) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(url)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("GET " + url + " failed", e);
    }
  }

  /** A POST to another coordinator at {@code base}. */
  static HttpResponse<String> post(
      String base, String path, String token, String contentType, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("POST " + base + path + " failed", e);
    }
  }

  HttpResponse<String> submit(String token, String body) {
    return stack.post("/api/v1/jobs", "application/json", token, body);
  }

  HttpResponse<String> cancel(UUID id) {
    return cancel(id, Stack.TOKEN);
  }

  HttpResponse<String> cancel(UUID id, String token) {
    return stack.post("/api/v1/jobs/" + id + "/cancel", null, token, "");
  }

  HttpResponse<String> patch(UUID id, String ifMatch, String body) {
    return patch(id, ifMatch, "application/json", Stack.TOKEN, body);
  }

  HttpResponse<String> patch(UUID id, String ifMatch, String type, String token, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(stack.api() + "/api/v1/jobs/" + id))
            .method("PATCH", HttpRequest.BodyPublishers.ofString(body));
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    if (type != null) {
      b.header("Content-Type", type);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(UUID id) {
    return stack.get("/api/v1/jobs/" + id);
  }

  /** The job as the admin token reads it. */
  JsonNode job(UUID id) {
    return reader.get(id).json();
  }

  /** The job's tasks, up to 1000 (the API's largest page). */
  List<JsonNode> tasks(UUID id) {
    return reader.tasks(id, null, null, 1000).items();
  }

  /** Opens the job's event stream with the admin token; lines arrive as the server writes them. */
  HttpResponse<Stream<String>> events(UUID id) {
    return events(id, Stack.ADMIN_TOKEN);
  }

  /** Opens the job's event stream with {@code token} (none when null). */
  HttpResponse<Stream<String>> events(UUID id, String token) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(stack.api() + "/api/v1/jobs/" + id + "/events")).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(b.build(), HttpResponse.BodyHandlers.ofLines());
  }

  /** One number from the test's database. */
  long count(String sql, Object... args) {
    return count(stack.env, sql, args);
  }

  /** One number from a test's database, for tests without a {@link Stack}. */
  static long count(TestEnvironment env, String sql, Object... args) {
    try (Connection c = env.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Rows of jobs, tasks and events, and Redis keys (the collect stream aside): what a rejection
   * must not change.
   */
  List<Long> footprint() {
    try (JedisPooled redis = new JedisPooled(URI.create(stack.env.redisUrl()))) {
      long keys =
          redis.keys(stack.env.redisPrefix() + ":*").stream()
              .filter(
                  k -> !k.contains("{collect}") && !k.contains("{meta}") && !k.contains("{leader}"))
              .count();
      return List.of(
          count("SELECT count(*) FROM jobs"),
          count("SELECT count(*) FROM tasks"),
          count("SELECT count(*) FROM job_events"),
          count("SELECT coalesce(sum(version), 0) FROM jobs"),
          keys);
    }
  }

  /** Live Redis access under the test's prefix. */
  JedisPooled redis() {
    return new JedisPooled(URI.create(stack.env.redisUrl()));
  }

  private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    try {
      return http.send(request, handler);
    } catch (Exception e) {
      throw new IllegalStateException("HTTP " + request.uri() + " failed", e);
    }
  }
}
