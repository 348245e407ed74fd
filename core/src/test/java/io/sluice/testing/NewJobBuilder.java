package io.sluice.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.store.NewJob;
import io.sluice.store.NewStage;
import io.sluice.store.TimeLimits;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Test data for a {@link NewJob}: a one-task {@code noop} job of tenant {@code test} on queue
 * {@code default} with three attempts that fails on a failed task, unless told otherwise. Each test
 * names only what it is about: {@code aJob().withTasks(10).onTaskFailure("continue").build()}.
 */
public final class NewJobBuilder {
  private UUID id = UUID.randomUUID();
  private String tenant = "test";
  private String type = "noop";
  private String queue = "default";
  private JsonNode payload = Json.object().put("tasks", 1);
  private String idempotencyKey;
  private String requestHash = "hash";
  private int priority;
  private int maxAttempts = 3;
  private String onTaskFailure = "fail";
  private JsonNode labels;
  private Instant runAt;
  private TimeLimits limits = TimeLimits.NONE;

  private NewJobBuilder() {}

  public NewJobBuilder withLimits(TimeLimits limits) {
    this.limits = limits;
    return this;
  }

  /** A builder with the defaults above. */
  public static NewJobBuilder aJob() {
    return new NewJobBuilder();
  }

  public NewJobBuilder withId(UUID id) {
    this.id = id;
    return this;
  }

  public NewJobBuilder withTenant(String tenant) {
    this.tenant = tenant;
    return this;
  }

  public NewJobBuilder withType(String type) {
    this.type = type;
    return this;
  }

  public NewJobBuilder withQueue(String queue) {
    this.queue = queue;
    return this;
  }

  public NewJobBuilder withPayload(JsonNode payload) {
    this.payload = payload;
    return this;
  }

  /** A {@code noop}-style payload {@code {"tasks": n}}. */
  public NewJobBuilder withTasks(int taskCount) {
    this.payload = Json.object().put("tasks", taskCount);
    return this;
  }

  public NewJobBuilder withIdempotencyKey(String key) {
    this.idempotencyKey = key;
    return this;
  }

  public NewJobBuilder withRequestHash(String hash) {
    this.requestHash = hash;
    return this;
  }

  public NewJobBuilder withPriority(int priority) {
    this.priority = priority;
    return this;
  }

  public NewJobBuilder withMaxAttempts(int maxAttempts) {
    this.maxAttempts = maxAttempts;
    return this;
  }

  /** {@code fail} or {@code continue}. */
  public NewJobBuilder onTaskFailure(String onTaskFailure) {
    this.onTaskFailure = onTaskFailure;
    return this;
  }

  public NewJobBuilder withLabels(JsonNode labels) {
    this.labels = labels;
    return this;
  }

  private List<NewStage> stages = List.of();

  public NewJobBuilder withRunAt(Instant runAt) {
    this.runAt = runAt;
    return this;
  }

  /** The id the built job will have. */
  public UUID id() {
    return id;
  }

  public NewJob build() {
    return new NewJob(
        id,
        tenant,
        type,
        queue,
        payload,
        idempotencyKey,
        requestHash,
        priority,
        maxAttempts,
        onTaskFailure,
        labels,
        runAt,
        stages,
        limits);
  }

  /** A pipeline of these stages (in topological order) instead of one-stage job. */
  public NewJobBuilder withStages(NewStage... stages) {
    this.stages = List.of(stages);
    return this;
  }
}
