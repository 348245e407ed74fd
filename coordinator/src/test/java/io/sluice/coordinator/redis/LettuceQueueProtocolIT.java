package io.sluice.coordinator.redis;

import io.sluice.config.RedisConfig;
import io.sluice.queue.QueueCommands;
import io.sluice.queue.QueueProtocol;
import io.sluice.queue.QueueProtocolContract;

/** The queue protocol's contract on the coordinator's Lettuce adapter. */
class LettuceQueueProtocolIT extends QueueProtocolContract {
  @Override
  protected QueueProtocol protocol(RedisConfig config) {
    return new LettuceCoordination(config);
  }

  @Override
  protected QueueCommands commands(RedisConfig config) {
    return new LettuceCommands(new LettuceConnections(config));
  }
}
