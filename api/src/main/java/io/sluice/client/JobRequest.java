package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The body of a one-stage submission, {@code POST /api/v1/jobs} with {@code type} and {@code
 * payload}. The server checks every field; this builder only assembles the JSON.
 *
 * <pre>{@code
 * JobSnapshot job =
 *     client.submit(
 *         JobRequest.of("wordcount", payload)
 *             .queue("reports")
 *             .idempotencyKey("report-2024-06")
 *             .priority(5)
 *             .label("team", "blue")
 *             .runAt(Instant.parse("2030-01-01T09:00:00Z")));
 * }</pre>
 *
 * <p>Immutable: each method returns a new request.
 */
public final class JobRequest {
  private final ObjectNode body;

  private JobRequest(ObjectNode body) {
    this.body = body;
  }

  /** A job of {@code type} with {@code payload} (null for {@code {}}). */
  public static JobRequest of(String type, JsonNode payload) {
    ObjectNode body = Json.object().put("type", Objects.requireNonNull(type, "type"));
    body.set("payload", payload == null ? Json.object() : payload.deepCopy());
    return new JobRequest(body);
  }

  /** The queue whose workers run it (default {@code default}). */
  public JobRequest queue(String queue) {
    return with(b -> b.put("queue", queue));
  }

  /** Makes the submit safe to retry: a repeat answers the job the first one created. */
  public JobRequest idempotencyKey(String key) {
    return with(b -> b.put("idempotencyKey", key));
  }

  /** -1000 to 1000; higher starts first. */
  public JobRequest priority(int priority) {
    return with(b -> b.put("priority", priority));
  }

  /** Tries per task, 1 to 100. */
  public JobRequest maxAttempts(int maxAttempts) {
    return with(b -> b.put("maxAttempts", maxAttempts));
  }

  /** {@code fail} (a task out of attempts fails the job) or {@code continue}. */
  public JobRequest onTaskFailure(String policy) {
    return with(b -> b.put("onTaskFailure", policy));
  }

  public JobRequest label(String key, String value) {
    return with(
        b ->
            (b.has("labels") ? (ObjectNode) b.get("labels") : b.putObject("labels"))
                .put(key, value));
  }

  /** No task starts before {@code at}. */
  public JobRequest runAt(Instant at) {
    return with(b -> b.put("runAt", at.toString()));
  }

  /**
   * At most the key's limit of tasks of the jobs with {@code key} run at once in the queue (the
   * server's {@code SLUICE_KEY_MAX_CONCURRENCY}, default 1); other keys' tasks keep flowing.
   */
  public JobRequest concurrencyKey(String key) {
    return with(b -> b.put("concurrencyKey", key));
  }

  /** {@link #concurrencyKey(String)} with its limit, 1 to 1,000,000. */
  public JobRequest concurrencyKey(String key, int limit) {
    return with(b -> b.put("concurrencyKey", key).put("concurrencyLimit", limit));
  }

  /** The submit body; a copy, so changing it leaves this request as built. */
  public ObjectNode toJson() {
    return body.deepCopy();
  }

  private JobRequest with(Consumer<ObjectNode> change) {
    ObjectNode copy = body.deepCopy();
    change.accept(copy);
    return new JobRequest(copy);
  }
}
