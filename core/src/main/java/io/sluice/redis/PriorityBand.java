package io.sluice.redis;

import java.util.List;
import java.util.Objects;

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
 *
 * <p>A job with a {@code concurrencyKey} has its tasks on a stream of their own per band, named
 * {@code queue~band^key} ({@code queue^key} in the normal band): workers read a band's unkeyed
 * stream and its keys' streams round-robin, each key only while it has a free slot of its limit.
 */
public enum PriorityBand {
  HIGH("high"),
  NORMAL(null),
  LOW("low");

  /** Separates a queue from its band in a stream name; queue names cannot contain it. */
  public static final char SEPARATOR = '~';

  /** Separates a band's stream name from a concurrency key; neither can contain it. */
  public static final char KEY_SEPARATOR = '^';

  /** What a concurrency key may be: it becomes part of Redis keys, so no spaces or braces. */
  public static final String KEY_PATTERN = "[A-Za-z0-9_.:@/=+-]{1,128}";

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

  /**
   * The stream name a job of {@code priority} on {@code queue} is dispatched to when it has the
   * concurrency key {@code key} (null: none).
   */
  public static String stream(String queue, int priority, String key) {
    String band = stream(queue, priority);
    return key == null ? band : band + KEY_SEPARATOR + key;
  }

  /** Every band's stream name of {@code queue}, the highest band first. */
  public static List<String> streams(String queue) {
    return HIGHEST_FIRST.stream().map(b -> b.stream(queue)).toList();
  }

  /** The queue a stream name belongs to, without its shard ({@link QueueShards}). */
  public static String queueOf(String stream) {
    String queue = shardQueueOf(stream);
    int at = queue.indexOf(QueueShards.SEPARATOR);
    return at < 0 ? queue : queue.substring(0, at);
  }

  /**
   * The queue a stream name belongs to with its shard ({@code hot@2}; shard 0 is the plain name):
   * what its Redis keys are named after.
   */
  public static String shardQueueOf(String stream) {
    String band = bandStreamOf(stream);
    int at = band.indexOf(SEPARATOR);
    return at < 0 ? band : band.substring(0, at);
  }

  /** The band's stream name of a stream name, without its concurrency key. */
  public static String bandStreamOf(String stream) {
    int at = stream.indexOf(KEY_SEPARATOR);
    return at < 0 ? stream : stream.substring(0, at);
  }

  /** The concurrency key of a stream name, or null when it has none. */
  public static String keyOf(String stream) {
    int at = stream.indexOf(KEY_SEPARATOR);
    return at < 0 ? null : stream.substring(at + 1);
  }

  /** The band a stream name belongs to. */
  public static PriorityBand of(String stream) {
    String suffix = suffixOf(stream);
    for (PriorityBand band : HIGHEST_FIRST) {
      if (Objects.equals(band.suffix, suffix)) {
        return band;
      }
    }
    throw new IllegalArgumentException("no priority band is named " + suffix + " in " + stream);
  }

  /** The band's 1-based place among {@link #streams}, as {@code fetch.lua} numbers them. */
  public int number() {
    return HIGHEST_FIRST.indexOf(this) + 1;
  }

  /** The band suffix of a stream name, or null for the normal band. */
  static String suffixOf(String stream) {
    String band = bandStreamOf(stream);
    int at = band.indexOf(SEPARATOR);
    return at < 0 ? null : band.substring(at + 1);
  }

  /** The band's name in keys: its suffix, {@code normal} for the normal band. */
  String keyName() {
    return suffix == null ? "normal" : suffix;
  }
}
