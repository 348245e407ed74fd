/**
 * Internal: the coordinator's Redis adapters, not an API. Lettuce ({@link
 * io.sluice.coordinator.redis.LettuceCoordination}) maps the queue protocol's commands and the
 * coordinator's own reads; Redisson holds the leader lock. No Lettuce or Redisson type leaves this
 * package; the rest of the coordinator uses {@link io.sluice.coordinator.CoordinatorRedis}.
 */
package io.sluice.coordinator.redis;
