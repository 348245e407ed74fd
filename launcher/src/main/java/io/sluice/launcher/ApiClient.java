package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;
import javax.net.ssl.SSLException;

/**
 * The coordinator's HTTP API as the launcher uses it (JDK {@code HttpClient} and Jackson only), and
 * a worker's drain action. Failures become {@link LauncherException}s that say what to do: no HTTP
 * answer at all ({@link LauncherException#UNREACHABLE}, naming the URL and the cause), or the
 * server's own error JSON with its status ({@link LauncherException#FAILED}).
 */
final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String DEFAULT_URL = "http://127.0.0.1:8080";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration SUBMIT_TIMEOUT = Duration.ofSeconds(120);

  private final URI base;
  private final String token;
  private final HttpClient http;

  ApiClient(String baseUrl, String token) {
    this.base = baseUri(baseUrl);
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .build();
  }

  /**
   * {@code SLUICE_API_URL} (default {@code http://127.0.0.1:8080}) and {@code SLUICE_API_TOKEN}.
   */
  static ApiClient fromEnv() {
    return fromEnv(System::getenv);
  }

  /** As {@link #fromEnv()}, reading the variables from {@code env}. */
  static ApiClient fromEnv(Function<String, String> env) {
    String url = env.apply("SLUICE_API_URL");
    try {
      return new ApiClient(
          url == null || url.isBlank() ? DEFAULT_URL : url.trim(), env.apply("SLUICE_API_TOKEN"));
    } catch (LauncherException e) {
      throw LauncherException.usage("SLUICE_API_URL " + e.getMessage());
    }
  }

  URI base() {
    return base;
  }

  JobView submit(String type, JsonNode payload) {
    ObjectNode body = JSON.createObjectNode().put("type", type).set("payload", payload);
    return new JobView(
        send(post("/api/v1/jobs", body.toString()).timeout(SUBMIT_TIMEOUT), "coordinator"));
  }

  JobView job(String id) {
    return new JobView(send(get("/api/v1/jobs/" + encode(id)), "coordinator"));
  }

  JsonNode cancel(String id) {
    return send(post("/api/v1/jobs/" + encode(id) + "/cancel", "{}"), "coordinator");
  }

  /**
   * One page of {@code GET /api/v1/jobs}: {@code {"items": [...], "nextCursor": ...}}.
   *
   * @param status a job status, or null for all
   * @param cursor a previous page's {@code nextCursor}, or null for the newest jobs
   */
  JsonNode jobs(String status, String cursor, int limit) {
    StringBuilder query = new StringBuilder("/api/v1/jobs?limit=").append(limit);
    if (status != null) {
      query.append("&status=").append(encode(status));
    }
    if (cursor != null) {
      query.append("&cursor=").append(encode(cursor));
    }
    return send(get(query.toString()), "coordinator");
  }

  /** {@code GET /api/v1/workers}: every node (workers and coordinators) with its heartbeat. */
  JsonNode workers(int limit) {
    return send(get("/api/v1/workers?limit=" + limit), "coordinator");
  }

  /**
   * {@code POST /admin/drain} on a worker's own port.
   *
   * @param url the worker's drain URL, e.g. {@code http://10.0.0.7:8081/admin/drain}
   */
  JsonNode drain(URI url) {
    return send(
        authorized(HttpRequest.newBuilder(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{}", StandardCharsets.UTF_8))
            .timeout(READ_TIMEOUT),
        "worker");
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
    return authorized(HttpRequest.newBuilder(URI.create(base + path)));
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) {
    b.header("Accept", "application/json");
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token.trim());
    }
    return b;
  }

  /**
   * @param server names who answers, for messages: {@code coordinator} or {@code worker}
   */
  private JsonNode send(HttpRequest.Builder builder, String server) {
    HttpRequest request = builder.build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // No HTTP answer at all: refused, unknown host, timed out, reset, TLS. Exit 3 means "try
      // again when it is reachable", whatever the transport's reason.
      throw unreachable(server, "coordinator".equals(server) ? base : request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LauncherException(LauncherException.FAILED, "interrupted", e);
    }
    JsonNode body = parse(response.body());
    if (response.statusCode() >= 300) {
      throw new LauncherException(
          LauncherException.FAILED,
          "the "
              + server
              + " answered "
              + response.statusCode()
              + " to "
              + request.method()
              + " "
              + request.uri().getPath()
              + ": "
              + (body.has("error") ? body.toString() : response.body())
              + (response.statusCode() == 401
                  ? " (set SLUICE_API_TOKEN to a token the coordinator accepts)"
                  : ""));
    }
    return body;
  }

  static LauncherException unreachable(String server, URI url, Throwable e) {
    String hint =
        "coordinator".equals(server)
            ? " Is it running? Point SLUICE_API_URL at it."
            : " Is it running, and is its port reachable from here?";
    return new LauncherException(
        LauncherException.UNREACHABLE,
        "cannot reach the " + server + " at " + url + " (" + cause(e) + ")." + hint,
        e);
  }

  /**
   * What went wrong on the way, in words: the JDK client wraps the real reason (refused, unknown
   * host) in {@code ConnectException}s without messages.
   */
  static String cause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
        return "unknown host" + (t.getMessage() == null ? "" : " " + t.getMessage());
      }
      if (t instanceof HttpConnectTimeoutException) {
        return "no connection within " + CONNECT_TIMEOUT.toSeconds() + " s";
      }
      if (t instanceof HttpTimeoutException) {
        return "no answer within the request timeout";
      }
      if (t instanceof SSLException) {
        return "TLS failed: " + t.getMessage();
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        return t.getMessage() == null ? "connection refused" : t.getMessage();
      }
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.toString();
  }

  /** The base URL without a trailing slash; an error unless it is {@code http(s)://host[:port]}. */
  static URI baseUri(String url) {
    String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    try {
      URI uri = new URI(trimmed);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw new URISyntaxException(url, "not of the form");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new LauncherException(
          LauncherException.USAGE,
          "'" + url + "' is not a URL of the form http://host:port or https://host:port");
    }
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
