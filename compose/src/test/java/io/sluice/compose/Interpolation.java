package io.sluice.compose;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Docker Compose's variable interpolation, as far as the compose file uses it: {@code $$} is a
 * literal {@code $}; {@code ${NAME}}, {@code ${NAME:-default}} and {@code ${NAME:?error}} read a
 * variable, where {@code :?} fails when it is unset or empty, as {@code docker compose} does.
 */
final class Interpolation {
  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");

  private Interpolation() {}

  static String resolve(String text, Map<String, String> variables) {
    Matcher m = REFERENCE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(value(m, variables)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String value(Matcher m, Map<String, String> variables) {
    if (m.group().equals("$$")) {
      return "$";
    }
    String name = m.group(1);
    String operator = m.group(2);
    String value = variables.get(name);
    boolean missing =
        value == null || (operator != null && operator.startsWith(":") && value.isEmpty());
    if (!missing) {
      return value;
    }
    if (operator == null) {
      return "";
    }
    if (operator.endsWith("-")) {
      return m.group(3);
    }
    throw new IllegalArgumentException("required variable " + name + " is missing: " + m.group(3));
  }
}
