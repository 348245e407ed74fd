package io.sluice.store;

import io.sluice.redis.PriorityBand;

/**
 * A job's {@code concurrencyKey} and the limit of that key's tasks running at once in its queue,
 * across all workers; its tasks wait on a stream of the key's own (see {@code fetch.lua}), so a key
 * at its limit holds back only its own tasks.
 */
public record ConcurrencyKey(String key, int limit) {
  /** The highest limit a key may have. */
  public static final int MAX_LIMIT = 1_000_000;

  public ConcurrencyKey {
    if (key == null || !key.matches(PriorityBand.KEY_PATTERN)) {
      throw new IllegalArgumentException(
          "a concurrency key must match " + PriorityBand.KEY_PATTERN + ", got " + key);
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "a concurrency limit must be between 1 and " + MAX_LIMIT + ", got " + limit);
    }
  }

  /** The key of {@code concurrency}, or null for none. */
  public static String keyOf(ConcurrencyKey concurrency) {
    return concurrency == null ? null : concurrency.key();
  }

  /** The limit of {@code concurrency}, or 0 for none (what the queue protocol takes). */
  public static int limitOf(ConcurrencyKey concurrency) {
    return concurrency == null ? 0 : concurrency.limit();
  }

  /** The pair read from a row's columns; null when the key is null. */
  static ConcurrencyKey of(String key, int limit) {
    return key == null ? null : new ConcurrencyKey(key, limit);
  }
}
