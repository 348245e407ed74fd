package io.sluice.api;

import com.fasterxml.jackson.databind.JsonNode;

/** A job's payload with typed accessors that name the offending field when a value is wrong. */
public record Payload(JsonNode json) {

  /** An integer field within [min, max], or {@code fallback} when absent. */
  public int intField(String field, int min, int max, Integer fallback) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      if (fallback == null) {
        throw new InvalidPayloadException(field, "is required");
      }
      return fallback;
    }
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      throw new InvalidPayloadException(field, "must be an integer, got " + abbreviate(node));
    }
    int value = node.intValue();
    if (value < min || value > max) {
      throw new InvalidPayloadException(
          field, "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  /** A boolean field, or {@code fallback} when absent. */
  public boolean booleanField(String field, boolean fallback) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isBoolean()) {
      throw new InvalidPayloadException(field, "must be true or false, got " + abbreviate(node));
    }
    return node.booleanValue();
  }

  /** A required string field. */
  public String stringField(String field) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      throw new InvalidPayloadException(field, "is required");
    }
    if (!node.isTextual()) {
      throw new InvalidPayloadException(field, "must be a string, got " + abbreviate(node));
    }
    return node.textValue();
  }

  private static String abbreviate(JsonNode node) {
    String text = node.toString();
    return text.length() > 40 ? text.substring(0, 40) + "…" : text;
  }
}
