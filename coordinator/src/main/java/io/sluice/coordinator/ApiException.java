package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.SluiceException;
import io.sluice.json.Json;

/**
 * A request the API rejects: an HTTP status and a JSON body {@code {"error": …, …}}. Only the HTTP
 * layer (routes, request parsing, {@link ApiErrors}) throws it; the domain throws a {@link
 * Refusal}, which {@link ApiErrors#toApi} turns into one.
 */
public final class ApiException extends SluiceException {
  private final int status;
  private final ObjectNode body;
  private long retryAfterSeconds;

  public ApiException(int status, String error) {
    super(error);
    this.status = status;
    this.body = Json.object().put("error", error);
  }

  public ApiException with(String field, String value) {
    body.put(field, value);
    return this;
  }

  public ApiException with(String field, long value) {
    body.put(field, value);
    return this;
  }

  /** Asks the client to wait this long before trying again ({@code Retry-After}). */
  public ApiException retryAfter(long seconds) {
    this.retryAfterSeconds = seconds;
    body.put("retryAfterSeconds", seconds);
    return this;
  }

  /** The {@code Retry-After} to send, or 0 for none. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  public ObjectNode body() {
    return body;
  }
}
