package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The body of a pipeline submission, {@code POST /api/v1/jobs} with {@code stages}: a graph of
 * stages, each run when the stages it depends on have succeeded. The server checks names,
 * dependencies, cycles and payloads; this builder only assembles the JSON.
 *
 * <pre>{@code
 * Pipeline pipeline =
 *     Pipeline.builder()
 *         .stage(StageSpec.of("left", "wordcount", leftPayload))
 *         .stage(StageSpec.of("right", "wordcount", rightPayload))
 *         .stage(StageSpec.of("total", "merge", null, "left", "right"))
 *         .idempotencyKey("count-2024-06-01")
 *         .build();
 * JobSnapshot job = client.submit(pipeline);
 * }</pre>
 */
public final class Pipeline {
  private final ObjectNode json;

  private Pipeline(ObjectNode json) {
    this.json = json;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The submit body; a copy, so changing it leaves this pipeline as built. */
  public ObjectNode toJson() {
    return json.deepCopy();
  }

  /**
   * One stage of a pipeline.
   *
   * @param name unique in the job, {@code [a-z0-9][a-z0-9_-]{0,62}}
   * @param type the job type that splits, runs and collects it
   * @param payload its payload, or null for {@code {}}
   * @param dependsOn the names of the stages whose success it waits for
   * @param queue its queue, or null for the job's
   * @param onTaskFailure {@code fail} or {@code continue}, or null for the job's
   */
  public record StageSpec(
      String name,
      String type,
      JsonNode payload,
      List<String> dependsOn,
      String queue,
      String onTaskFailure) {
    public StageSpec {
      dependsOn = List.copyOf(dependsOn);
    }

    /** A stage on the job's queue and failure policy. */
    public static StageSpec of(String name, String type, JsonNode payload, String... dependsOn) {
      return new StageSpec(name, type, payload, List.of(dependsOn), null, null);
    }

    /** This stage on {@code queue}, e.g. a GPU stage on the GPU workers' queue. */
    public StageSpec onQueue(String queue) {
      return new StageSpec(name, type, payload, dependsOn, queue, onTaskFailure);
    }

    /** This stage with its own failure policy. */
    public StageSpec withOnTaskFailure(String policy) {
      return new StageSpec(name, type, payload, dependsOn, queue, policy);
    }

    ObjectNode toJson() {
      ObjectNode stage = Json.object().put("name", name).put("type", type);
      if (payload != null) {
        stage.set("payload", payload);
      }
      if (!dependsOn.isEmpty()) {
        dependsOn.forEach(stage.putArray("dependsOn")::add);
      }
      if (queue != null) {
        stage.put("queue", queue);
      }
      if (onTaskFailure != null) {
        stage.put("onTaskFailure", onTaskFailure);
      }
      return stage;
    }
  }

  /** Collects stages and the job's optional fields; {@link #build()} needs at least one stage. */
  public static final class Builder {
    private final List<StageSpec> stages = new ArrayList<>();
    private final Map<String, String> labels = new LinkedHashMap<>();
    private final ObjectNode fields = Json.object();

    private Builder() {}

    public Builder stage(StageSpec stage) {
      stages.add(stage);
      return this;
    }

    /** The queue of every stage that names none. */
    public Builder queue(String queue) {
      fields.put("queue", queue);
      return this;
    }

    /** Makes the submit safe to retry: a repeat answers the job the first one created. */
    public Builder idempotencyKey(String key) {
      fields.put("idempotencyKey", key);
      return this;
    }

    public Builder priority(int priority) {
      fields.put("priority", priority);
      return this;
    }

    public Builder maxAttempts(int maxAttempts) {
      fields.put("maxAttempts", maxAttempts);
      return this;
    }

    /** The failure policy of every stage that names none: {@code fail} or {@code continue}. */
    public Builder onTaskFailure(String policy) {
      fields.put("onTaskFailure", policy);
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Pipeline build() {
      if (stages.isEmpty()) {
        throw new IllegalStateException("a pipeline needs at least one stage");
      }
      ObjectNode body = Json.object();
      var list = body.putArray("stages");
      stages.forEach(s -> list.add(s.toJson()));
      body.setAll(fields.deepCopy());
      if (!labels.isEmpty()) {
        labels.forEach(body.putObject("labels")::put);
      }
      return new Pipeline(body);
    }
  }
}
