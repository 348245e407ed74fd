package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.Sha256;
import io.sluice.json.Json;
import io.sluice.store.TimeLimits;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.TreeMap;

/**
 * A digest of what a submission asks for, independent of key order and whitespace, so "the same
 * body again" is recognised however a client serialises it.
 */
final class RequestHash {
  private RequestHash() {}

  static String of(SubmitRequest r) {
    ObjectNode canonical = Json.object();
    canonical.put("type", r.type());
    canonical.put("queue", r.queue());
    canonical.set("payload", r.payload() == null ? null : canonical(r.payload()));
    canonical.put("priority", r.priority());
    canonical.put("maxAttempts", r.maxAttempts());
    canonical.put("onTaskFailure", r.onTaskFailure());
    // Only when present, so the hash of a request without them is what it always was.
    if (r.labels() != null) {
      canonical.set("labels", canonical(r.labels()));
    }
    if (r.runAt() != null) {
      canonical.put("runAt", r.runAt().toString());
    }
    limits(canonical, r.limits());
    if (r.isPipeline()) {
      canonical.set("stages", canonical(Json.MAPPER.valueToTree(r.stages())));
    }
    if (r.callback() != null) {
      canonical.set("callback", canonical(Json.MAPPER.valueToTree(r.callback())));
    }
    if (r.concurrencyKey() != null) {
      canonical.put("concurrencyKey", r.concurrencyKey());
      if (r.concurrencyLimit() != null) {
        canonical.put("concurrencyLimit", r.concurrencyLimit());
      }
    }
    return HexFormat.of()
        .formatHex(Sha256.of(Json.write(canonical).getBytes(StandardCharsets.UTF_8)));
  }

  /** The time limits given, each in milliseconds; none when the request gives none. */
  private static void limits(ObjectNode canonical, TimeLimits limits) {
    if (limits.taskTimeout() != null) {
      canonical.put("taskTimeoutMs", limits.taskTimeout().toMillis());
    }
    if (limits.deadline() != null) {
      canonical.put("deadlineMs", limits.deadline().toMillis());
    }
    if (limits.retryBase() != null) {
      canonical.put("retryBaseMs", limits.retryBase().toMillis());
      canonical.put("retryMaxMs", limits.retryMax().toMillis());
    }
  }

  private static JsonNode canonical(JsonNode node) {
    if (node.isObject()) {
      TreeMap<String, JsonNode> sorted = new TreeMap<>();
      node.fields().forEachRemaining(e -> sorted.put(e.getKey(), canonical(e.getValue())));
      ObjectNode out = Json.object();
      sorted.forEach(out::set);
      return out;
    }
    if (node.isArray()) {
      ArrayNode out = Json.MAPPER.createArrayNode();
      node.forEach(child -> out.add(canonical(child)));
      return out;
    }
    return node;
  }
}
