package io.sluice.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Reads settings from a map of environment variables, parsing and checking each one. Every failure
 * names the variable, its value and what was expected. It remembers which names were asked for, so
 * a deployment's environment (the compose file, a Kubernetes manifest) can be checked against what
 * a configuration really reads.
 */
public final class Env {
  private final Map<String, String> vars;
  private final Set<String> read = ConcurrentHashMap.newKeySet();
  private final Set<String> required = ConcurrentHashMap.newKeySet();

  public Env(Map<String, String> vars) {
    this.vars = Map.copyOf(vars);
  }

  public static Env system() {
    return new Env(System.getenv());
  }

  public String get(String name) {
    read.add(name);
    String value = vars.get(name);
    return value == null || value.isBlank() ? null : value.trim();
  }

  public String get(String name, String fallback) {
    String value = get(name);
    return value == null ? fallback : value;
  }

  public String require(String name, String what) {
    required.add(name);
    String value = get(name);
    if (value == null) {
      throw new ConfigException(name, null, "is not set; it must give " + what);
    }
    return value;
  }

  /** The names asked for so far, required or not, sorted. */
  public Set<String> namesRead() {
    return new TreeSet<>(read);
  }

  /** The names asked for so far as required ({@link #require}), sorted. */
  public Set<String> namesRequired() {
    return new TreeSet<>(required);
  }

  /** {@code true}/{@code false} (also {@code yes}/{@code no}, {@code 1}/{@code 0}). */
  public boolean bool(String name, boolean fallback) {
    String value = get(name);
    if (value == null) {
      return fallback;
    }
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw new ConfigException(name, value, "must be true or false");
    };
  }

  public int intValue(String name, int fallback, int min, int max) {
    return parse(name, fallback, Integer::parseInt, min, max, "an integer");
  }

  public long longValue(String name, long fallback, long min, long max) {
    return parse(name, fallback, Long::parseLong, min, max, "an integer");
  }

  public Duration duration(String name, Duration fallback) {
    String value = get(name);
    if (value == null) {
      return fallback;
    }
    try {
      Duration d = parseDuration(value);
      if (d.isNegative() || d.isZero()) {
        throw new ConfigException(name, value, "must be positive");
      }
      return d;
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new ConfigException(name, value, "must be a duration such as 500ms, 30s, 5m or PT30S");
    }
  }

  /**
   * Parses {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 7d} or ISO-8601 {@code
   * PT30S}.
   */
  public static Duration parseDuration(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.startsWith("pt") || v.startsWith("p")) {
      return Duration.parse(value.trim().toUpperCase(Locale.ROOT));
    }
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
    }
    long n = Long.parseLong(v.substring(0, v.length() - 1));
    return switch (v.charAt(v.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      case 'd' -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException(value);
    };
  }

  private <T extends Comparable<T>> T parse(
      String name, T fallback, Function<String, T> parser, T min, T max, String what) {
    String value = get(name);
    if (value == null) {
      return fallback;
    }
    T parsed;
    try {
      parsed = parser.apply(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(name, value, "must be " + what);
    }
    if (parsed.compareTo(min) < 0 || parsed.compareTo(max) > 0) {
      throw new ConfigException(name, value, "must be between " + min + " and " + max);
    }
    return parsed;
  }
}
