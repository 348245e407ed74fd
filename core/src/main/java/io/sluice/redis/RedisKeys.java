package io.sluice.redis;

import java.util.UUID;

/**
 * Builds every Redis key Sluice uses; no key string is built anywhere else. Keys of one queue or
 * one job share a hash tag so that a script touching them runs on one Redis Cluster slot.
 */
public final class RedisKeys {
  /** The consumer group workers read a queue's ready stream with. */
  public static final String WORKER_GROUP = "workers";

  /** The consumer group coordinators read the collect stream with. */
  public static final String COORDINATOR_GROUP = "coordinators";

  private final String prefix;

  public RedisKeys(String prefix) {
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  /**
   * The stream of tasks ready to run in {@code queue}, or in one priority band of it when given a
   * band's stream name ({@link PriorityBand#stream}); all bands of a queue share its hash tag.
   */
  public String readyStream(String queue) {
    String key = PriorityBand.keyOf(queue);
    if (key != null) {
      return queueBase(queue) + "kready:" + PriorityBand.of(queue).keyName() + ":" + key;
    }
    String band = PriorityBand.suffixOf(queue);
    if (band == null) {
      return queueBase(queue) + "ready";
    }
    return queueBase(queue) + "ready:" + band;
  }

  /**
   * What every key of a queue starts with, its hash tag included: {@code fetch.lua} builds the keys
   * of the concurrency keys it meets from it ({@code kready:<band>:<key>}, {@code key-slots:<key>},
   * {@code key-limit:<key>}), so they are in the queue's slot on a Redis Cluster.
   */
  public String queueBase(String stream) {
    return prefix + ":{q:" + PriorityBand.shardQueueOf(stream) + "}:";
  }

  /**
   * The concurrency keys of one band of a queue that have tasks not yet read (a sorted set, the
   * least recently served first): {@code fetch.lua} goes round them.
   */
  public String keyRing(String stream) {
    return queueBase(stream) + "keys:" + PriorityBand.of(stream).keyName();
  }

  /**
   * The holders of a concurrency key's slots in a queue (a sorted set: holder → expiry in ms),
   * shared by all bands; a holder is {@code <entry id>/<band number>} of the entry that took it.
   */
  public String keySlots(String stream) {
    return queueBase(stream) + "key-slots:" + PriorityBand.keyOf(stream);
  }

  /**
   * How many tasks of one band's concurrency keys no worker has read yet, kept by the scripts that
   * append and read them: a queue's depth without a call per key.
   */
  public String keyedUnread(String stream) {
    return queueBase(stream) + "keyed-unread:" + PriorityBand.of(stream).keyName();
  }

  /** A concurrency key's limit in a queue, refreshed by every dispatch of a job that has it. */
  public String keyLimit(String stream) {
    return queueBase(stream) + "key-limit:" + PriorityBand.keyOf(stream);
  }

  /**
   * A queue's control hash, in the hash tag of its ready streams so {@code fetch.lua} reads it in
   * the same call: {@code paused} and the {@code version} of that state (copied from PostgreSQL),
   * and the rate limit {@code rate} per {@code period} ms with its theoretical arrival time {@code
   * tat} in microseconds of Redis's clock.
   */
  public String queueControl(String queue) {
    return prefix + ":{q:" + queue + "}:control";
  }

  /**
   * The holders of a queue's concurrency slots (a sorted set: holder → expiry). Every bounded
   * counter shares one hash tag, so one script can take a queue's and a job type's slot together.
   */
  public String queueSlots(String queue) {
    return prefix + ":{limits}:queue:" + queue;
  }

  /** The holders of a job type's concurrency slots; see {@link #queueSlots}. */
  public String typeSlots(String type) {
    return prefix + ":{limits}:type:" + type;
  }

  /** A job's count of tasks not yet finished (the fan-in counter). */
  public String remaining(UUID jobId) {
    return prefix + ":{j:" + jobId + "}:remaining";
  }

  /** A job's bitmap of tasks already counted by the fan-in, so a redelivery counts nothing. */
  public String counted(UUID jobId) {
    return prefix + ":{j:" + jobId + "}:counted";
  }

  /** Where a rebuild stages a job's finished tasks before they replace {@link #counted}. */
  public String countedStaging(UUID jobId) {
    return prefix + ":{j:" + jobId + "}:counted-staging";
  }

  /** The stream of "this job's tasks are all finished" signals that coordinators collect. */
  public String collectStream() {
    return prefix + ":{collect}";
  }

  /** The marker whose absence tells a coordinator Redis lost its data and must be rebuilt. */
  public String epochMarker() {
    return prefix + ":{meta}:epoch";
  }

  /** The leader-election lock. */
  public String leaderLock() {
    return prefix + ":{leader}";
  }
}
