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

  /** The stream of tasks ready to run in {@code queue}. */
  public String readyStream(String queue) {
    return prefix + ":{q:" + queue + "}:ready";
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

  /** The pattern matching every key of this installation. */
  public String all() {
    return prefix + ":*";
  }
}
