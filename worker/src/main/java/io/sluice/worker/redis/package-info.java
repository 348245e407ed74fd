/**
 * Internal: the worker's Jedis adapter of {@link io.sluice.queue.QueueCommands}, not an API. No
 * Jedis type leaves this package; the rest of the worker uses {@link io.sluice.queue.QueueProtocol}
 * and {@link io.sluice.queue.ConcurrencySlots}.
 */
package io.sluice.worker.redis;
