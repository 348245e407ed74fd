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

  public SluiceApiException(int status, JsonNode body, Duration retryAfter) {
    super("the API answered " + status + ": " + body.path("error").asText(body.toString()));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  public JsonNode body() {
    return body;
  }

  /** The {@code Retry-After} the server sent, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }

  /** A 409 naming the job's current version: someone changed the job since it was read. */
  public boolean isVersionConflict() {
    return status == 409 && body.has("currentVersion");
  }

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
