package io.sluice.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many tasks of a queue may start per second or per minute across all workers, configured on
 * the coordinator as {@code SLUICE_QUEUE_RATE=mail=10/s,reports=600/m}; a queue not named is not
 * limited. The coordinator copies the limits into Redis, where {@code fetch.lua} spends them.
 *
 * @param perQueue each limited queue's rate, in the order configured
 */
public record QueueRates(Map<String, Rate> perQueue) {
  /** No rate limits. */
  public static final QueueRates NONE = new QueueRates(Map.of());

  /** The setting's name. */
  public static final String SETTING = "SLUICE_QUEUE_RATE";

  /** The most tasks a rate may allow per period. */
  public static final int MAX_COUNT = 1_000_000;

  private static final Pattern ITEM = Pattern.compile("([A-Za-z0-9_.-]{1,64})=([0-9]{1,9})/([sm])");

  /**
   * A rate limit: at most {@code count} task starts in any {@code period}.
   *
   * @param count tasks per period, 1 to {@value #MAX_COUNT}
   * @param period one second or one minute
   */
  public record Rate(int count, Duration period) {
    /** The rate as it is written in the setting, e.g. {@code 10/s}. */
    public String spec() {
      return count + (period.equals(Duration.ofMinutes(1)) ? "/m" : "/s");
    }

    /** Task starts per second. */
    public double perSecond() {
      return count * 1000.0 / period.toMillis();
    }
  }

  public QueueRates {
    perQueue = Collections.unmodifiableMap(new LinkedHashMap<>(perQueue));
  }

  public static QueueRates fromEnv(Env env) {
    return parse(env.get(SETTING));
  }

  /** Parses {@code name=N/s,name=N/m}; null or blank is no limits. */
  public static QueueRates parse(String spec) {
    Map<String, Rate> rates = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return NONE;
    }
    for (String item : spec.split(",", -1)) {
      Matcher m = ITEM.matcher(item.trim());
      if (!m.matches()) {
        throw new ConfigException(
            SETTING,
            spec,
            "'"
                + item.trim()
                + "' is not queue=N/s or queue=N/m (a queue name of letters, digits, '_', '.', '-'),"
                + " e.g. mail=10/s,reports=600/m");
      }
      long count = Long.parseLong(m.group(2));
      if (count < 1 || count > MAX_COUNT) {
        throw new ConfigException(
            SETTING,
            spec,
            "queue " + m.group(1) + "'s rate must be between 1 and " + MAX_COUNT + " per period");
      }
      Duration period = m.group(3).equals("s") ? Duration.ofSeconds(1) : Duration.ofMinutes(1);
      if (rates.put(m.group(1), new Rate((int) count, period)) != null) {
        throw new ConfigException(SETTING, spec, "queue " + m.group(1) + " is named twice");
      }
    }
    return new QueueRates(rates);
  }

  /** The queue's rate limit, or null when it has none. */
  public Rate of(String queue) {
    return perQueue.get(queue);
  }

  /** The setting as it would be written, e.g. {@code mail=10/s}; empty when there are none. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    perQueue.forEach(
        (q, r) -> b.append(b.isEmpty() ? "" : ",").append(q).append('=').append(r.spec()));
    return b.toString();
  }
}
