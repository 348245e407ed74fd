package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.Env;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.Set;

/**
 * The time limits of a submission: {@code taskTimeout} (also a stage's), {@code deadline} and
 * {@code retry: {"base", "max"?}}, each a duration written {@code 500ms}, {@code 30s}, {@code 5m},
 * {@code 1h} (or ISO-8601 {@code PT30S}). A refusal is a 400 naming the field.
 */
final class TimeLimitsParser {
  static final Duration MIN_TASK_TIMEOUT = Duration.ofMillis(100);
  static final Duration MAX_TASK_TIMEOUT = Duration.ofHours(24);
  static final Duration MIN_DEADLINE = Duration.ofSeconds(1);
  static final Duration MAX_DEADLINE = Duration.ofDays(366);
  static final Duration MIN_RETRY = Duration.ofMillis(10);
  static final Duration MAX_RETRY_BASE = Duration.ofHours(1);
  static final Duration MAX_RETRY = Duration.ofHours(24);
  // As the workers' SLUICE_RETRY_MAX defaults to.
  static final Duration DEFAULT_RETRY_MAX = Duration.ofMinutes(5);
  private static final Set<String> RETRY_FIELDS = Set.of("base", "max");

  private TimeLimitsParser() {}

  /** The job's limits in {@code root}; {@link TimeLimits#NONE} when it gives none. */
  static TimeLimits parse(JsonNode root) {
    Duration timeout = taskTimeout(root.get("taskTimeout"), "taskTimeout");
    Duration deadline = duration(root.get("deadline"), "deadline", MIN_DEADLINE, MAX_DEADLINE);
    JsonNode retry = root.get("retry");
    if (retry == null || retry.isNull()) {
      return new TimeLimits(timeout, deadline, null, null);
    }
    if (!retry.isObject()) {
      throw refusal("retry", "retry must be an object {\"base\": \"1s\", \"max\"?: \"5m\"}");
    }
    retry
        .fieldNames()
        .forEachRemaining(
            f -> {
              if (!RETRY_FIELDS.contains(f)) {
                throw refusal("retry." + f, "unknown field 'retry." + f + "'");
              }
            });
    Duration base = duration(retry.get("base"), "retry.base", MIN_RETRY, MAX_RETRY_BASE);
    if (base == null) {
      throw refusal("retry.base", "retry.base is required: the first retry's delay, e.g. \"1s\"");
    }
    Duration max = duration(retry.get("max"), "retry.max", base, MAX_RETRY);
    if (max == null) {
      max = DEFAULT_RETRY_MAX.compareTo(base) < 0 ? base : DEFAULT_RETRY_MAX;
    }
    return new TimeLimits(timeout, deadline, base, max);
  }

  /** A task timeout ({@code field} names it in a refusal), or null when absent. */
  static Duration taskTimeout(JsonNode node, String field) {
    return duration(node, field, MIN_TASK_TIMEOUT, MAX_TASK_TIMEOUT);
  }

  private static Duration duration(JsonNode node, String field, Duration min, Duration max) {
    if (node == null || node.isNull()) {
      return null;
    }
    Duration d = null;
    if (node.isTextual()) {
      try {
        d = Env.parseDuration(node.textValue());
      } catch (RuntimeException e) {
        d = null;
      }
    }
    if (d == null) {
      throw refusal(
          field, field + " must be a duration such as \"500ms\", \"30s\", \"5m\" or \"1h\"");
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw refusal(
          field,
          field
              + " must be between "
              + TimeLimits.text(min)
              + " and "
              + TimeLimits.text(max)
              + ", not "
              + node.textValue());
    }
    return d;
  }

  private static ApiException refusal(String field, String message) {
    return new ApiException(400, message).with("field", field);
  }
}
