package io.sluice.coordinator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.redis.PriorityBand;
import io.sluice.store.ConcurrencyKey;
import java.io.IOException;
import java.util.Set;

/** Turns a request body into a {@link SubmitRequest}, naming the first field that is wrong. */
final class SubmitRequestParser {
  private static final Set<String> FIELDS =
      Set.of(
          "type",
          "queue",
          "payload",
          "idempotencyKey",
          "priority",
          "maxAttempts",
          "onTaskFailure",
          "labels",
          "runAt",
          "stages",
          "callback",
          "taskTimeout",
          "deadline",
          "retry",
          "concurrencyKey",
          "concurrencyLimit");
  static final String NAME = "[A-Za-z0-9_.-]{1,64}";

  private SubmitRequestParser() {}

  static SubmitRequest parse(byte[] body) {
    JsonNode root = readObject(body);
    StorableJson.check(root);
    return parse(root);
  }

  /** The body as a JSON object, or a 400 saying why it is not one. */
  static JsonNode readObject(byte[] body) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ApiException(400, "unreadable body: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ApiException(400, "the body must be a JSON object");
    }
    return root;
  }

  /** One submit body, already read (and checked storable), as a request. */
  static SubmitRequest parse(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new ApiException(400, "a job must be a JSON object");
    }
    root.fieldNames()
        .forEachRemaining(
            name -> {
              if (!FIELDS.contains(name)) {
                throw new ApiException(400, "unknown field '" + name + "'").with("field", name);
              }
            });
    String queue = name(root, "queue", "default");
    String onTaskFailure = onTaskFailure(root);
    JsonNode stages = root.get("stages");
    boolean pipeline = stages != null && !stages.isNull();
    if (pipeline) {
      for (String oneStage : new String[] {"type", "payload"}) {
        if (root.has(oneStage)) {
          throw new ApiException(
                  400,
                  "give either type and payload (a one-stage job) or stages (a pipeline), not"
                      + " both: "
                      + oneStage
                      + " belongs in a stage")
              .with("field", oneStage);
        }
      }
    }
    return new SubmitRequest(
        pipeline ? null : name(root, "type", null),
        queue,
        pipeline ? null : payload(root),
        idempotencyKey(root),
        integer(root, "priority", 0, -1000, 1000),
        integer(root, "maxAttempts", 3, 1, 100),
        onTaskFailure,
        Labels.parse(root.get("labels")),
        Labels.runAt(root.get("runAt")),
        pipeline ? StagesParser.parse(stages, queue, onTaskFailure) : null,
        TimeLimitsParser.parse(root),
        WebhookTargets.parseCallback(root.get("callback")),
        concurrencyKey(root),
        concurrencyLimit(root));
  }

  private static String concurrencyKey(JsonNode root) {
    JsonNode node = root.get("concurrencyKey");
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual() || !node.textValue().matches(PriorityBand.KEY_PATTERN)) {
      throw new ApiException(
              400, "concurrencyKey must be 1-128 letters, digits or any of _ . : @ / = + -")
          .with("field", "concurrencyKey");
    }
    return node.textValue();
  }

  private static Integer concurrencyLimit(JsonNode root) {
    JsonNode node = root.get("concurrencyLimit");
    if (node == null || node.isNull()) {
      return null;
    }
    if (!root.hasNonNull("concurrencyKey")) {
      throw new ApiException(400, "concurrencyLimit needs a concurrencyKey")
          .with("field", "concurrencyLimit");
    }
    return integer(root, "concurrencyLimit", 1, 1, ConcurrencyKey.MAX_LIMIT);
  }

  private static String name(JsonNode root, String field, String fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      if (fallback == null) {
        throw new ApiException(400, field + " is required").with("field", field);
      }
      return fallback;
    }
    if (!node.isTextual() || !node.textValue().matches(NAME)) {
      throw new ApiException(400, field + " must be 1-64 letters, digits, '_', '.' or '-'")
          .with("field", field);
    }
    return node.textValue();
  }

  private static JsonNode payload(JsonNode root) {
    JsonNode node = root.get("payload");
    if (node == null || !node.isObject()) {
      throw new ApiException(400, "payload is required and must be a JSON object")
          .with("field", "payload");
    }
    return node;
  }

  private static String idempotencyKey(JsonNode root) {
    JsonNode node = root.get("idempotencyKey");
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual() || node.textValue().isEmpty() || node.textValue().length() > 200) {
      throw new ApiException(400, "idempotencyKey must be a string of 1-200 characters")
          .with("field", "idempotencyKey");
    }
    return node.textValue();
  }

  private static int integer(JsonNode root, String field, int fallback, int min, int max) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isIntegralNumber()
        || !node.canConvertToInt()
        || node.intValue() < min
        || node.intValue() > max) {
      throw new ApiException(400, field + " must be an integer between " + min + " and " + max)
          .with("field", field);
    }
    return node.intValue();
  }

  /** An integer field within [min, max], or null when absent. */
  static Integer optionalInt(JsonNode root, String field, int min, int max) {
    JsonNode node = root.get(field);
    return node == null || node.isNull() ? null : integer(root, field, 0, min, max);
  }

  private static String onTaskFailure(JsonNode root) {
    JsonNode node = root.get("onTaskFailure");
    if (node == null || node.isNull()) {
      return "fail";
    }
    if (!node.isTextual() || !Set.of("fail", "continue").contains(node.textValue())) {
      throw new ApiException(400, "onTaskFailure must be \"fail\" or \"continue\"")
          .with("field", "onTaskFailure");
    }
    return node.textValue();
  }
}
