package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.SluiceException;
import io.sluice.client.SluiceClient.ConnectionLostException;
import io.sluice.client.SluiceClient.Listener;
import io.sluice.client.SluiceClient.Reply;
import io.sluice.client.SluiceClient.Sleeper;
import io.sluice.client.SluiceClient.Transport;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One request and its answer, and the client's one retry rule: a request marked {@link Resend#SAFE}
 * is sent again after a lost connection, a 429 or a 503, waiting as {@link RetryOnConflict} says
 * and never less than the server's {@code Retry-After}; a request marked {@link Resend#NEVER} is
 * sent once, because the server may have acted on it although its answer was lost.
 */
final class Exchange {
  private static final System.Logger log = System.getLogger(SluiceClient.class.getName());

  /** Whether a request may be sent again when it failed in a way a retry can fix. */
  enum Resend {
    /** Reads, and writes the server applies at most once (an idempotency key, a cancel). */
    SAFE,
    /** Writes that a second send could apply twice or answer differently. */
    NEVER
  }

  private final Transport transport;
  private final RetryOnConflict retry;
  private final Sleeper sleeper;
  private final Listener listener;

  Exchange(Transport transport, RetryOnConflict retry, Sleeper sleeper, Listener listener) {
    this.transport = transport;
    this.retry = retry;
    this.sleeper = sleeper;
    this.listener = listener;
  }

  /** Sends {@code request}, again while {@code resend} allows it, and returns a 2xx answer. */
  Reply send(HttpRequest request, Resend resend) {
    for (int attempt = 1; ; attempt++) {
      try {
        return once(request);
      } catch (SluiceApiException e) {
        if (resend == Resend.NEVER || e.isVersionConflict() || !e.isRetryable()) {
          throw e;
        }
        if (attempt >= retry.maxAttempts()) {
          throw e;
        }
        pause(attempt, reason(e), e.retryAfter(), e);
      } catch (ConnectionLostException e) {
        if (resend == Resend.NEVER || attempt >= retry.maxAttempts()) {
          throw e;
        }
        pause(attempt, "connection", null, e);
      }
    }
  }

  /** One try: the answer when it is 2xx, else the {@link SluiceApiException} it means. */
  Reply once(HttpRequest request) {
    Reply reply;
    try {
      reply = transport.send(request);
    } catch (IOException e) {
      throw new ConnectionLostException(request.method(), request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted during " + request.method() + " " + request.uri(), e);
    }
    if (reply.status() >= 300) {
      throw new SluiceApiException(
          reply.status(),
          errorBody(reply.body()),
          retryAfter(reply.retryAfter()),
          request.method(),
          request.uri().getPath(),
          reply.body());
    }
    return reply;
  }

  /** Waits before try {@code attempt + 1}; an interrupt ends the retries with {@code cause}. */
  void pause(int attempt, String reason, Duration retryAfter, RuntimeException cause) {
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

  static String reason(SluiceApiException e) {
    return e.isVersionConflict() ? "conflict" : e.status() == 429 ? "rate_limited" : "unavailable";
  }

  /** The version a job answer names: its {@code ETag}, else its body's {@code version}. */
  static JobSnapshot snapshot(Reply reply) {
    JsonNode json = Json.read(reply.body());
    long version =
        reply.etag() == null
            ? json.path("version").asLong()
            : Long.parseLong(reply.etag().replace("W/", "").replace("\"", "").trim());
    return new JobSnapshot(json, version);
  }

  /** A JSON answer's body; an empty body is an empty object. */
  static JsonNode body(Reply reply) {
    String body = reply.body();
    return body == null || body.isBlank() ? Json.object() : Json.read(body);
  }

  static JsonNode errorBody(String body) {
    try {
      JsonNode node = body == null || body.isBlank() ? null : Json.read(body);
      return node != null && node.isObject()
          ? node
          : Json.object().put("error", String.valueOf(body));
    } catch (RuntimeException e) {
      return Json.object().put("error", body);
    }
  }

  /** {@code Retry-After} in seconds; the HTTP-date form and nonsense are ignored. */
  static Duration retryAfter(String header) {
    try {
      return header == null ? null : Duration.ofSeconds(Long.parseLong(header.trim()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code base} without a trailing slash. */
  static URI trimmed(URI base) {
    String b = base.toString();
    return URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
  }
}
