package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.coordinator.SubmitRequest.StageRequest;
import io.sluice.json.Json;
import io.sluice.store.NewJob;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code stages} of a pipeline submission: checked (names, fields, dependencies, no cycle) and
 * put in a topological order that keeps the request's order where the graph allows. Every refusal
 * is a 400 naming the stage ({@code stage}) and the field ({@code field}, such as {@code
 * stages[1].dependsOn}).
 */
final class StagesParser {
  static final int MAX_STAGES = 64;
  private static final String STAGE_NAME = "[a-z0-9][a-z0-9_-]{0,62}";
  private static final String TYPE_NAME = "[A-Za-z0-9_.-]{1,64}";
  private static final Set<String> FIELDS =
      Set.of(
          "name",
          "type",
          "payload",
          "dependsOn",
          "queue",
          "onTaskFailure",
          "taskTimeout",
          "callback");

  private StagesParser() {}

  /** The stages of {@code node}, with a stage's queue and policy defaulting to the job's. */
  static List<StageRequest> parse(JsonNode node, String jobQueue, String jobPolicy) {
    if (!node.isArray() || node.isEmpty() || node.size() > MAX_STAGES) {
      throw new ApiException(400, "stages must be an array of 1 to " + MAX_STAGES + " stages")
          .with("field", "stages");
    }
    Map<String, StageRequest> byName = new LinkedHashMap<>();
    for (int i = 0; i < node.size(); i++) {
      StageRequest stage = stage(node.get(i), i, jobQueue, jobPolicy);
      if (byName.putIfAbsent(stage.name(), stage) != null) {
        throw refusal(i, stage.name(), "name", "the name '" + stage.name() + "' is used twice");
      }
    }
    int i = 0;
    for (StageRequest stage : byName.values()) {
      for (String dep : stage.dependsOn()) {
        if (!byName.containsKey(dep)) {
          throw refusal(i, stage.name(), "dependsOn", "depends on '" + dep + "', no such stage");
        }
      }
      i++;
    }
    return topological(byName);
  }

  private static StageRequest stage(JsonNode node, int i, String jobQueue, String jobPolicy) {
    if (node == null || !node.isObject()) {
      throw new ApiException(400, "stages[" + i + "] must be a JSON object")
          .with("field", "stages[" + i + "]");
    }
    JsonNode nameNode = node.get("name");
    if (nameNode == null || !nameNode.isTextual() || !nameNode.textValue().matches(STAGE_NAME)) {
      throw new ApiException(
              400,
              "stages["
                  + i
                  + "].name is required: 1-63 lower-case letters, digits, '_' or '-', starting"
                  + " with a letter or digit")
          .with("field", "stages[" + i + "].name");
    }
    String name = nameNode.textValue();
    node.fieldNames()
        .forEachRemaining(
            f -> {
              if (!FIELDS.contains(f)) {
                throw refusal(i, name, f, "unknown field '" + f + "'");
              }
            });
    String type = text(node, i, name, "type", TYPE_NAME, null);
    JsonNode payload = node.get("payload");
    if (payload == null || payload.isNull()) {
      payload = Json.object();
    } else if (!payload.isObject()) {
      throw refusal(i, name, "payload", "payload must be a JSON object");
    }
    String queue = text(node, i, name, "queue", TYPE_NAME, jobQueue);
    String policy = text(node, i, name, "onTaskFailure", "fail|continue", jobPolicy);
    Duration timeout;
    try {
      timeout = TimeLimitsParser.taskTimeout(node.get("taskTimeout"), "taskTimeout");
    } catch (ApiException e) {
      throw refusal(i, name, "taskTimeout", e.getMessage());
    }
    NewJob.Callback callback;
    try {
      callback = WebhookTargets.parseCallback(node.get("callback"));
    } catch (ApiException e) {
      e.body().put("field", "stages[" + i + "]." + e.body().path("field").asText());
      e.body().put("stage", name);
      throw e;
    }
    return new StageRequest(
        name, type, payload, dependsOn(node, i, name), queue, policy, timeout, callback);
  }

  private static List<String> dependsOn(JsonNode node, int i, String name) {
    JsonNode deps = node.get("dependsOn");
    if (deps == null || deps.isNull()) {
      return List.of();
    }
    if (!deps.isArray()) {
      throw refusal(i, name, "dependsOn", "dependsOn must be an array of stage names");
    }
    Set<String> seen = new HashSet<>();
    List<String> names = new ArrayList<>();
    for (JsonNode d : deps) {
      if (!d.isTextual()) {
        throw refusal(i, name, "dependsOn", "dependsOn must be an array of stage names");
      }
      if (d.textValue().equals(name)) {
        throw refusal(i, name, "dependsOn", "a stage cannot depend on itself (a cycle)");
      }
      if (!seen.add(d.textValue())) {
        throw refusal(i, name, "dependsOn", "names '" + d.textValue() + "' twice");
      }
      names.add(d.textValue());
    }
    return List.copyOf(names);
  }

  private static String text(
      JsonNode node, int i, String stage, String field, String pattern, String fallback) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (fallback == null) {
        throw refusal(i, stage, field, field + " is required");
      }
      return fallback;
    }
    if (!v.isTextual() || !v.textValue().matches(pattern)) {
      throw refusal(
          i,
          stage,
          field,
          field.equals("onTaskFailure")
              ? "onTaskFailure must be \"fail\" or \"continue\""
              : field + " must be 1-64 letters, digits, '_', '.' or '-'");
    }
    return v.textValue();
  }

  /** Kahn's algorithm, taking ready stages in request order; a leftover stage is on a cycle. */
  private static List<StageRequest> topological(Map<String, StageRequest> byName) {
    List<StageRequest> order = new ArrayList<>(byName.size());
    Set<String> placed = new HashSet<>();
    boolean moved = true;
    while (moved) {
      moved = false;
      for (StageRequest s : byName.values()) {
        if (!placed.contains(s.name()) && placed.containsAll(s.dependsOn())) {
          order.add(s);
          placed.add(s.name());
          moved = true;
        }
      }
    }
    if (order.size() < byName.size()) {
      List<String> cycle = cycle(byName, placed);
      int index = new ArrayList<>(byName.keySet()).indexOf(cycle.get(0));
      throw refusal(
          index,
          cycle.get(0),
          "dependsOn",
          "the stages form a cycle: " + String.join(" → ", cycle));
    }
    return order;
  }

  /** One cycle among the stages not placed, as names from a stage back to itself. */
  private static List<String> cycle(Map<String, StageRequest> byName, Set<String> placed) {
    String start =
        byName.keySet().stream().filter(n -> !placed.contains(n)).findFirst().orElseThrow();
    // Walk unplaced dependencies until a name repeats: every unplaced stage has one.
    Deque<String> path = new ArrayDeque<>();
    Map<String, Integer> at = new HashMap<>();
    String current = start;
    while (!at.containsKey(current)) {
      at.put(current, path.size());
      path.addLast(current);
      current =
          byName.get(current).dependsOn().stream()
              .filter(d -> !placed.contains(d))
              .findFirst()
              .orElseThrow();
    }
    List<String> list = new ArrayList<>(path);
    List<String> cycle = new ArrayList<>(list.subList(at.get(current), list.size()));
    cycle.add(current);
    return cycle;
  }

  private static ApiException refusal(int i, String stage, String field, String message) {
    return new ApiException(400, "stage '" + stage + "': " + message)
        .with("field", "stages[" + i + "]." + field)
        .with("stage", stage);
  }
}
