package io.sluice.redis;

import java.util.List;

/**
 * A queue's priority bands. Every queue has one ready stream per band; workers read the bands from
 * the highest down and take a lower band's tasks only when the higher bands are empty, so a
 * higher-priority job's tasks start before those of lower-priority jobs already waiting. A job's
 * band follows its {@code priority}: above 0 is {@link #HIGH}, 0 is {@link #NORMAL}, below 0 is
 * {@link #LOW}; within a band tasks run first in, first out.
 *
 * <p>A band's stream is named {@code queue~band} wherever a queue name is passed to Redis code
 * ({@link RedisKeys#readyStream}), and the normal band keeps the plain queue name, so its stream
 * key is the one a queue always had. All bands of a queue share the queue's hash tag.
 */
public enum PriorityBand {
  HIGH("high"),
  NORMAL(null),
  LOW("low");

  /** Separates a queue from its band in a stream name; queue names cannot contain it. */
  public static final char SEPARATOR = '~';

  private static final List<PriorityBand> HIGHEST_FIRST = List.of(HIGH, NORMAL, LOW);

  private final String suffix;

  PriorityBand(String suffix) {
    this.suffix = suffix;
  }

  /** The band of a job's priority. */
  public static PriorityBand of(int priority) {
    return priority > 0 ? HIGH : priority < 0 ? LOW : NORMAL;
  }

  /** This band's stream name of {@code queue}. */
  public String stream(String queue) {
    return suffix == null ? queue : queue + SEPARATOR + suffix;
  }

  /** The stream name a job of {@code priority} on {@code queue} is dispatched to. */
  public static String stream(String queue, int priority) {
    return of(priority).stream(queue);
  }

  /** Every band's stream name of {@code queue}, the highest band first. */
  public static List<String> streams(String queue) {
    return HIGHEST_FIRST.stream().map(b -> b.stream(queue)).toList();
  }

  /** The queue a stream name belongs to. */
  public static String queueOf(String stream) {
    int at = stream.indexOf(SEPARATOR);
    return at < 0 ? stream : stream.substring(0, at);
  }

  /** The band suffix of a stream name, or null for the normal band. */
  static String suffixOf(String stream) {
    int at = stream.indexOf(SEPARATOR);
    return at < 0 ? null : stream.substring(at + 1);
  }
}
