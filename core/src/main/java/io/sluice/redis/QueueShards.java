package io.sluice.redis;

import io.sluice.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * How many shards each queue's ready streams are spread over ({@code SLUICE_QUEUE_SHARDS=hot=4}),
 * so that one hot queue is not pinned to one Redis Cluster master: shard {@code i} of queue {@code
 * q} is the queue {@code q@i} in every Redis key ({@code {q:hot@2}}), a hash tag of its own, and
 * shard 0 keeps the plain name, so a queue of one shard is the queue it always was. A job's tasks
 * go round its shards by sequence number; a job with a concurrency key has all its tasks on the
 * key's shard, so the key's slots stay in one script's reach. Every coordinator and worker must
 * carry the same shards; a queue's count may only grow while it has tasks (a shard dropped with
 * tasks on it would not be read).
 */
public record QueueShards(Map<String, Integer> counts) {
  /** No queue sharded. */
  public static final QueueShards NONE = new QueueShards(Map.of());

  /** The most shards a queue may have. */
  public static final int MAX = 64;

  /** Separates a queue from its shard number in a stream name; queue names cannot contain it. */
  public static final char SEPARATOR = '@';

  private static final String SETTING = "SLUICE_QUEUE_SHARDS";

  public QueueShards {
    counts = Map.copyOf(counts);
  }

  /** Parses {@code queue=shards,queue=shards}; null or blank is none. */
  public static QueueShards parse(String spec) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return NONE;
    }
    for (String item : spec.split(",")) {
      String[] parts = item.trim().split("=", 2);
      if (parts.length != 2 || !parts[0].trim().matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new ConfigException(SETTING, spec, "must be queue=shards pairs, e.g. hot=4,mail=2");
      }
      int n;
      try {
        n = Integer.parseInt(parts[1].trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(SETTING, spec, "each shard count must be an integer");
      }
      if (n < 1 || n > MAX) {
        throw new ConfigException(SETTING, spec, "each shard count must be between 1 and " + MAX);
      }
      if (counts.put(parts[0].trim(), n) != null) {
        throw new ConfigException(SETTING, spec, "queue " + parts[0].trim() + " is named twice");
      }
    }
    return new QueueShards(counts);
  }

  /** How many shards {@code queue} (a plain queue name) has. */
  public int of(String queue) {
    return counts.getOrDefault(queue, 1);
  }

  /** Shard {@code i}'s queue name of {@code queue}: the plain name for shard 0. */
  public static String shardQueue(String queue, int i) {
    return i == 0 ? queue : queue + SEPARATOR + i;
  }

  /** Every shard's stream name of a stream name without a shard, shard 0 first. */
  public List<String> streamsOf(String stream) {
    int n = of(PriorityBand.queueOf(stream));
    List<String> streams = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      streams.add(withShard(stream, i));
    }
    return streams;
  }

  /** Whether a stream name names its shard (it came from a read of one). */
  public static boolean hasShard(String stream) {
    return PriorityBand.bandStreamOf(stream).indexOf(SEPARATOR) >= 0;
  }

  /** The stream name of shard {@code i} of a stream name without a shard. */
  public static String withShard(String stream, int i) {
    if (i == 0) {
      return stream;
    }
    String queue = PriorityBand.queueOf(stream);
    return queue + SEPARATOR + i + stream.substring(queue.length());
  }

  /** The shard a concurrency key's tasks go to among {@code n}: the same on every node. */
  public static int shardOfKey(String key, int n) {
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % n);
  }
}
