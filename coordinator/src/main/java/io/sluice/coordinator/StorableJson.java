package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Refuses request JSON that PostgreSQL cannot store as it was sent, before anything is written:
 * {@code \u0000} (neither {@code text} nor {@code jsonb} holds it), a lone UTF-16 surrogate (no
 * UTF-8 encoding; the driver would store {@code ?}) and a number too large for a double (Jackson
 * reads it as infinity and would store the string {@code "Infinity"}). The 400 names the field with
 * a path such as {@code payload.lines[3]}, never the offending text, which the JSON answer could
 * not carry either.
 */
final class StorableJson {
  private static final int MAX_PATH = 200;

  private StorableJson() {}

  /** Checks every name and value of the object {@code root}; its fields are named bare. */
  static void check(JsonNode root) {
    check(root, "");
  }

  private static void check(JsonNode node, String path) {
    if (node.isTextual()) {
      String why = unstorable(node.textValue());
      if (why != null) {
        throw refusal(path, "is a string containing " + why);
      }
    } else if (node.isFloatingPointNumber()) {
      if (!Double.isFinite(node.doubleValue())) {
        throw refusal(path, "is a number out of range (beyond ±1.7e308)");
      }
    } else if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        String why = unstorable(field.getKey());
        if (why != null) {
          throw refusal(
              path.isEmpty() ? "(a field name)" : path, "has a field name containing " + why);
        }
        check(field.getValue(), child(path, field.getKey()));
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        check(node.get(i), path + "[" + i + "]");
      }
    }
  }

  /** What makes {@code s} unstorable, or null when it is fine. */
  static String unstorable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '\u0000') {
        return "\\u0000 (NUL), which PostgreSQL cannot store";
      }
      if (Character.isHighSurrogate(ch)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return "a lone UTF-16 surrogate, which is not a character";
      }
      if (Character.isLowSurrogate(ch)) {
        return "a lone UTF-16 surrogate, which is not a character";
      }
    }
    return null;
  }

  private static String child(String path, String name) {
    String safe = unstorable(name) == null ? name : "?";
    String full = path.isEmpty() ? safe : path + "." + safe;
    return full.length() > MAX_PATH ? full.substring(0, MAX_PATH) + "…" : full;
  }

  private static ApiException refusal(String path, String why) {
    String field = path.isEmpty() ? "(body)" : path;
    return new ApiException(400, field + " " + why).with("field", field);
  }
}
