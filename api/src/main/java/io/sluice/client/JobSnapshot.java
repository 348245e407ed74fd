package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** A job as the API returned it, with the version its {@code ETag} named. */
public record JobSnapshot(JsonNode json, long version) {

  public UUID id() {
    return UUID.fromString(json.path("id").asText());
  }

  public String status() {
    return json.path("status").asText();
  }

  public int priority() {
    return json.path("priority").asInt();
  }

  public int maxAttempts() {
    return json.path("maxAttempts").asInt();
  }

  /**
   * The job's {@code taskTimeout} as written by the API ({@code "30s"}); empty when it has none.
   */
  public Optional<String> taskTimeout() {
    return text("taskTimeout");
  }

  /** The job's {@code concurrencyKey}; empty when it has none. */
  public Optional<String> concurrencyKey() {
    return text("concurrencyKey");
  }

  /** The limit of the job's concurrency key; 0 when it has no key. */
  public int concurrencyLimit() {
    return json().path("concurrencyLimit").asInt(0);
  }

  /** The job's {@code deadline} ({@code "1h"}, from its submission); empty when it has none. */
  public Optional<String> deadline() {
    return text("deadline");
  }

  /** When the job's deadline falls, by the server's database clock; empty when it has none. */
  public Optional<Instant> deadlineAt() {
    return text("deadlineAt").map(Instant::parse);
  }

  private Optional<String> text(String field) {
    JsonNode v = json.path(field);
    return v.isTextual() ? Optional.of(v.textValue()) : Optional.empty();
  }

  /** The job's labels; empty when it has none. */
  public Map<String, String> labels() {
    Map<String, String> labels = new LinkedHashMap<>();
    json.path("labels")
        .fields()
        .forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    return labels;
  }

  /**
   * The job's stages in a topological order (a one-stage job has one, {@code main}); empty from a
   * server that predates pipelines.
   */
  public List<StageSnapshot> stages() {
    List<StageSnapshot> stages = new ArrayList<>();
    json.path("stages").forEach(s -> stages.add(new StageSnapshot(s)));
    return stages;
  }

  /** The stage named {@code name}, if the job has one. */
  public Optional<StageSnapshot> stage(String name) {
    return stages().stream().filter(s -> s.name().equals(name)).findFirst();
  }
}
