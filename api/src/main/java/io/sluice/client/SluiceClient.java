package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.SluiceException;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The coordinator's job API for Java programs. Thread-safe; share one per process.
 *
 * <pre>{@code
 * SluiceClient client = SluiceClient.create(URI.create("http://coordinator:8080"), token, null);
 * client.update(jobId, job -> JobUpdate.priority(job.priority() + 1));
 * }</pre>
 *
 * A {@link Listener} hears every version conflict the server answered and every retry (reason
 * {@code conflict}, {@code unavailable}, {@code rate_limited} or {@code connection}); core's {@code
 * ClientMetrics} turns them into {@code sluice_client_conflicts_total} and {@code
 * sluice_client_retries_total{reason}}.
 */
public final class SluiceClient {
  private static final System.Logger log = System.getLogger(SluiceClient.class.getName());
  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  /** One HTTP exchange; a seam so tests can answer without a server. */
  interface Transport {
    Reply send(HttpRequest request) throws IOException, InterruptedException;
  }

  /** What a server answered. */
  record Reply(int status, String body, String etag, String retryAfter) {}

  private final URI base;
  private final String token;
  private final Transport transport;
  private final RetryOnConflict retry;
  private final Sleeper sleeper;
  private final Listener listener;

  /** Hears what the client retried and why; the default hears nothing. */
  public interface Listener {
    Listener NONE = new Listener() {};

    /** The server answered 409 with a newer version. */
    default void conflict() {}

    /** A try failed and the client will try again after a wait. */
    default void retried(String reason) {}
  }

  /** Waits between tries; a seam for tests. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  SluiceClient(
      URI base,
      String token,
      Transport transport,
      RetryOnConflict retry,
      Sleeper sleeper,
      Listener listener) {
    String b = base.toString();
    this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
    this.token = token;
    this.transport = transport;
    this.retry = retry;
    this.sleeper = sleeper;
    this.listener = listener;
  }

  /** A client of the API at {@code base}, authenticating with {@code token}. */
  public static SluiceClient create(URI base, String token, Listener listener) {
    return create(base, token, listener, RetryOnConflict.DEFAULT);
  }

  public static SluiceClient create(
      URI base, String token, Listener listener, RetryOnConflict retry) {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    Transport transport =
        request -> {
          HttpResponse<String> r =
              http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
          return new Reply(
              r.statusCode(),
              r.body(),
              r.headers().firstValue("ETag").orElse(null),
              r.headers().firstValue("Retry-After").orElse(null));
        };
    return new SluiceClient(
        base,
        token,
        transport,
        retry,
        d -> Thread.sleep(d),
        listener == null ? Listener.NONE : listener);
  }

  /** {@code GET /api/v1/jobs/{id}}. */
  public JobSnapshot get(UUID id) {
    return snapshot(exchange(request(path(id)).GET()));
  }

  /**
   * One {@code PATCH /api/v1/jobs/{id}} with {@code If-Match: "<version>"}; a stale version throws
   * a {@link SluiceApiException} whose {@link SluiceApiException#isVersionConflict()} is true.
   */
  public JobSnapshot patch(UUID id, long version, JobUpdate update) {
    HttpRequest.Builder b =
        request(path(id))
            .header("Content-Type", "application/json")
            .header("If-Match", "\"" + version + "\"")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(Json.write(update.toJson())));
    return snapshot(exchange(b));
  }

  /** {@code POST /api/v1/jobs/{id}/cancel}. */
  public JobSnapshot cancel(UUID id) {
    return snapshot(
        exchange(request(path(id) + "/cancel").POST(HttpRequest.BodyPublishers.noBody())));
  }

  /**
   * Reads the job, computes the change from what it read, and patches it at that version. When the
   * job changed meanwhile (409 with {@code currentVersion}), the server was briefly unavailable or
   * busy (503, 429) or the connection was lost, it waits ({@link RetryOnConflict}), reads the job
   * again and re-applies {@code change} to the fresh copy; any other refusal (a validation error,
   * 404, a finished job) is thrown at once. {@code change} must depend only on the job it is given:
   * after a lost connection the first patch may have been applied, and the fresh copy shows it.
   *
   * @return the job after the change
   */
  public JobSnapshot update(UUID id, Function<JobSnapshot, JobUpdate> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        JobSnapshot current = get(id);
        return patch(id, current.version(), change.apply(current));
      } catch (SluiceApiException e) {
        if (e.isVersionConflict()) {
          listener.conflict();
        }
        if (!e.isRetryable() || attempt >= retry.maxAttempts()) {
          throw e;
        }
        pause(attempt, reason(e), e.retryAfter(), e);
      } catch (ConnectionLostException e) {
        if (attempt >= retry.maxAttempts()) {
          throw e;
        }
        pause(attempt, "connection", null, e);
      }
    }
  }

  /** The request never got an answer (refused, reset, timed out); a retry may succeed. */
  public static final class ConnectionLostException extends SluiceException {
    ConnectionLostException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private void pause(int attempt, String reason, Duration retryAfter, RuntimeException cause) {
    Duration wait = retry.backoff(attempt, retryAfter, ThreadLocalRandom.current());
    listener.retried(reason);
    log.log(
        System.Logger.Level.DEBUG,
        "Retrying after {0} ({1}), try {2} of {3}",
        reason,
        wait,
        attempt + 1,
        retry.maxAttempts());
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cause.addSuppressed(e);
      throw cause;
    }
  }

  private static String reason(SluiceApiException e) {
    return e.isVersionConflict() ? "conflict" : e.status() == 429 ? "rate_limited" : "unavailable";
  }

  private String path(UUID id) {
    return "/api/v1/jobs/" + id;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(TIMEOUT)
            .header("Accept", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private Reply exchange(HttpRequest.Builder builder) {
    HttpRequest request = builder.build();
    Reply reply;
    try {
      reply = transport.send(request);
    } catch (IOException e) {
      throw new ConnectionLostException(
          request.method() + " " + request.uri().getPath() + " got no answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted during " + request.method() + " " + request.uri(), e);
    }
    if (reply.status() >= 300) {
      throw new SluiceApiException(reply.status(), errorBody(reply.body()), retryAfter(reply));
    }
    return reply;
  }

  private static JobSnapshot snapshot(Reply reply) {
    JsonNode json = Json.read(reply.body());
    long version =
        reply.etag() == null
            ? json.path("version").asLong()
            : Long.parseLong(reply.etag().replace("W/", "").replace("\"", "").trim());
    return new JobSnapshot(json, version);
  }

  private static JsonNode errorBody(String body) {
    try {
      JsonNode node = body == null || body.isBlank() ? null : Json.read(body);
      return node != null && node.isObject()
          ? node
          : Json.object().put("error", String.valueOf(body));
    } catch (RuntimeException e) {
      return Json.object().put("error", body);
    }
  }

  private static Duration retryAfter(Reply reply) {
    try {
      return reply.retryAfter() == null
          ? null
          : Duration.ofSeconds(Long.parseLong(reply.retryAfter().trim()));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
