package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/** Checks the fields a submission and a patch share: {@code labels} and {@code runAt}. */
final class Labels {
  static final int MAX_LABELS = 32;
  static final int MAX_VALUE = 256;
  private static final String KEY = "[A-Za-z0-9_./-]{1,64}";
  private static final long MAX_DELAY_DAYS = 366;
  // Far enough back for any clock, near enough for every timestamp type on the way to PostgreSQL.
  private static final Instant EARLIEST_RUN_AT = Instant.EPOCH;

  private Labels() {}

  /** A JSON object of at most 32 string values with keys of 1-64 safe characters. */
  static ObjectNode parse(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject() || node.size() > MAX_LABELS) {
      throw new ApiException(
              400, "labels must be a JSON object of at most " + MAX_LABELS + " strings")
          .with("field", "labels");
    }
    ObjectNode labels = Json.object();
    node.fields()
        .forEachRemaining(
            e -> {
              if (!e.getKey().matches(KEY)) {
                throw new ApiException(
                        400, "label names must be 1-64 letters, digits, '_', '.', '/' or '-'")
                    .with("field", "labels." + abbreviate(e.getKey()));
              }
              if (!e.getValue().isTextual() || e.getValue().textValue().length() > MAX_VALUE) {
                throw new ApiException(
                        400, "label values must be strings of at most " + MAX_VALUE + " characters")
                    .with("field", "labels." + e.getKey());
              }
              labels.put(e.getKey(), e.getValue().textValue());
            });
    return labels;
  }

  /**
   * An ISO-8601 instant with offset, at most a year ahead, to the millisecond; null when absent.
   */
  static Instant runAt(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    Instant at;
    try {
      at = node.isTextual() ? OffsetDateTime.parse(node.textValue()).toInstant() : null;
    } catch (DateTimeParseException e) {
      at = null;
    }
    if (at == null) {
      throw new ApiException(
              400, "runAt must be an ISO-8601 time with an offset, e.g. 2030-01-01T09:00:00Z")
          .with("field", "runAt");
    }
    if (at.isBefore(EARLIEST_RUN_AT)) {
      throw new ApiException(400, "runAt must be after 1970-01-01T00:00:00Z")
          .with("field", "runAt");
    }
    if (at.isAfter(Instant.now().plus(MAX_DELAY_DAYS, ChronoUnit.DAYS))) {
      throw new ApiException(400, "runAt must be at most " + MAX_DELAY_DAYS + " days ahead")
          .with("field", "runAt");
    }
    return at.truncatedTo(ChronoUnit.MILLIS);
  }

  private static String abbreviate(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "…" : s;
  }
}
