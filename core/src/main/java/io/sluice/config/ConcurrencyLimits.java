package io.sluice.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * How many tasks of a queue, or of a job type, may run at once across all workers ({@code
 * maxConcurrency}). Configured on workers as {@code SLUICE_QUEUE_MAX_CONCURRENCY=images=4,mail=2}
 * and {@code SLUICE_TYPE_MAX_CONCURRENCY=wordcount=8}; every worker serving a queue should carry
 * the same limits. A queue or type not named is not limited.
 */
public record ConcurrencyLimits(Map<String, Integer> perQueue, Map<String, Integer> perType) {
  /** No limits. */
  public static final ConcurrencyLimits NONE = new ConcurrencyLimits(Map.of(), Map.of());

  private static final String NAME = "[A-Za-z0-9_.-]{1,64}";

  public ConcurrencyLimits {
    perQueue = Map.copyOf(perQueue);
    perType = Map.copyOf(perType);
  }

  public static ConcurrencyLimits fromEnv(Env env) {
    return new ConcurrencyLimits(
        parse("SLUICE_QUEUE_MAX_CONCURRENCY", env.get("SLUICE_QUEUE_MAX_CONCURRENCY")),
        parse("SLUICE_TYPE_MAX_CONCURRENCY", env.get("SLUICE_TYPE_MAX_CONCURRENCY")));
  }

  /** Parses {@code name=limit,name=limit}; null or blank is no limits. */
  public static Map<String, Integer> parse(String setting, String spec) {
    Map<String, Integer> limits = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return limits;
    }
    for (String item : spec.split(",")) {
      String[] parts = item.trim().split("=", 2);
      if (parts.length != 2 || !parts[0].trim().matches(NAME)) {
        throw new ConfigException(setting, spec, "must be name=limit pairs, e.g. images=4,mail=2");
      }
      try {
        int limit = Integer.parseInt(parts[1].trim());
        if (limit < 1 || limit > 1_000_000) {
          throw new ConfigException(setting, spec, "each limit must be between 1 and 1000000");
        }
        limits.put(parts[0].trim(), limit);
      } catch (NumberFormatException e) {
        throw new ConfigException(setting, spec, "each limit must be an integer");
      }
    }
    return limits;
  }

  public OptionalInt forQueue(String queue) {
    Integer limit = perQueue.get(queue);
    return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
  }

  public OptionalInt forType(String type) {
    Integer limit = perType.get(type);
    return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
  }

  public boolean isEmpty() {
    return perQueue.isEmpty() && perType.isEmpty();
  }
}
