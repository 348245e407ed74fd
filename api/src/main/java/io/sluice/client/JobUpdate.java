package io.sluice.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.util.Map;

/**
 * The body of {@code PATCH /api/v1/jobs/{id}}: the fields to change, null for those to keep. {@code
 * labels} replaces the job's labels as a whole.
 */
public record JobUpdate(Integer priority, Integer maxAttempts, Map<String, String> labels) {

  public static JobUpdate priority(int priority) {
    return new JobUpdate(priority, null, null);
  }

  public static JobUpdate maxAttempts(int maxAttempts) {
    return new JobUpdate(null, maxAttempts, null);
  }

  public static JobUpdate labels(Map<String, String> labels) {
    return new JobUpdate(null, null, Map.copyOf(labels));
  }

  ObjectNode toJson() {
    ObjectNode body = Json.object();
    if (priority != null) {
      body.put("priority", priority);
    }
    if (maxAttempts != null) {
      body.put("maxAttempts", maxAttempts);
    }
    if (labels != null) {
      ObjectNode l = body.putObject("labels");
      labels.forEach(l::put);
    }
    return body;
  }
}
