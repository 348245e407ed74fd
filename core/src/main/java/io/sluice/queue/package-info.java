/**
 * Sluice's Redis queue protocol: the {@link io.sluice.queue.QueueProtocol} port, written once in
 * {@link io.sluice.queue.RedisQueueProtocol} over the {@link io.sluice.queue.QueueCommands} that
 * each client's adapter supplies, with the one script runner ({@link io.sluice.queue.ScriptRunner})
 * and the scripts' argument layout ({@link io.sluice.queue.QueueScripts}). No client library's type
 * appears here.
 */
package io.sluice.queue;
