package io.sluice.worker.redis;

import io.sluice.config.RedisConfig;
import io.sluice.queue.RedisQueueProtocol;
import io.sluice.redis.RedisKeys;

/**
 * The worker's queue protocol on Jedis, blocking: each fetch thread borrows its own pooled
 * connection for XREADGROUP … BLOCK; acknowledgements and fan-in for a whole batch go in one
 * pipeline. The protocol itself is {@link RedisQueueProtocol}'s.
 */
public final class JedisTaskQueue extends RedisQueueProtocol {
  public JedisTaskQueue(RedisConfig config, int connections) {
    this(config, connections, "sluice-worker");
  }

  /** {@code clientName} names the connections in CLIENT LIST, e.g. after the worker id. */
  public JedisTaskQueue(RedisConfig config, int connections, String clientName) {
    super(
        new RedisKeys(config.prefix()),
        JedisPools.commands(config, connections, clientName),
        config.shards());
  }
}
