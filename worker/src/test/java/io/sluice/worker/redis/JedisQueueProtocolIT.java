package io.sluice.worker.redis;

import io.sluice.config.RedisConfig;
import io.sluice.queue.QueueCommands;
import io.sluice.queue.QueueProtocol;
import io.sluice.queue.QueueProtocolContract;

/** The queue protocol's contract on the worker's Jedis adapter. */
class JedisQueueProtocolIT extends QueueProtocolContract {
  @Override
  protected QueueProtocol protocol(RedisConfig config) {
    return new JedisTaskQueue(config, 4, "sluice-contract-test");
  }

  @Override
  protected QueueCommands commands(RedisConfig config) {
    return new JedisCommands(JedisPools.create(config, 2, "sluice-contract-test-raw"));
  }
}
