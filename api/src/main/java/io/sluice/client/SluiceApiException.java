package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.SluiceException;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * The API refused a request: its status and its JSON error body. {@link #isRetryable()} says
 * whether the same request may succeed later (a version conflict after a refetch, a busy or briefly
 * unavailable server, a rate limit); a validation error, a missing token or an unknown job never
 * is.
 */
public class SluiceApiException extends SluiceException {
  private final int status;
  private final JsonNode body;
  private final Duration retryAfter;
  private final String method;
  private final String path;
  private final String rawBody;

  /** A refusal of a request the client does not name. */
  public SluiceApiException(int status, JsonNode body, Duration retryAfter) {
    this(status, body, retryAfter, null, null, body.toString());
  }

  /**
   * @param body the error body as JSON; a body that was not a JSON object is {@code {"error": <the
   *     text>}}
   * @param retryAfter the {@code Retry-After} the server sent, or null
   * @param method the refused request's method, or null
   * @param path the refused request's path, or null
   * @param rawBody the body as the server sent it
   */
  public SluiceApiException(
      int status, JsonNode body, Duration retryAfter, String method, String path, String rawBody) {
    super(
        "the API answered "
            + status
            + (method == null ? "" : " to " + method + " " + path)
            + ": "
            + body.path("error").asText(body.toString()));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
    this.method = method;
    this.path = path;
    this.rawBody = rawBody;
  }

  /** The HTTP status of the answer. */
  public int status() {
    return status;
  }

  /** The error body: {@code {"error": …}} and the fields the refusal names. */
  public JsonNode body() {
    return body;
  }

  /** The {@code Retry-After} the server sent, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }

  /** The refused request's method ({@code GET}, {@code POST}, …), or null. */
  public String method() {
    return method;
  }

  /** The refused request's path, e.g. {@code /api/v1/jobs}, or null. */
  public String path() {
    return path;
  }

  /** The answer's body as the server sent it, JSON or not (a proxy's HTML page, say). */
  public String rawBody() {
    return rawBody;
  }

  /** A 409 naming the job's current version: someone changed the job since it was read. */
  public boolean isVersionConflict() {
    return status == 409 && body.has("currentVersion");
  }

  /** The job's current version when {@link #isVersionConflict()}, else empty. */
  public OptionalLong currentVersion() {
    return isVersionConflict()
        ? OptionalLong.of(body.get("currentVersion").asLong())
        : OptionalLong.empty();
  }

  /**
   * Version conflicts, 429 (rate limited) and 503 (the database was unavailable, or a transaction
   * kept losing to serialization failures or deadlocks).
   */
  public boolean isRetryable() {
    return isVersionConflict() || status == 429 || status == 503;
  }
}
