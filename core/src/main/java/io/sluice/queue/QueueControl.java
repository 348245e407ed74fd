package io.sluice.queue;

import io.sluice.config.QueueRates;

/**
 * What workers must know of a queue at fetch time, as the coordinator copies it into Redis.
 *
 * @param queue the queue's name
 * @param version the version of the paused state in PostgreSQL (0 when the queue has no row)
 * @param paused whether no new task of the queue may start
 * @param rate the queue's rate limit, or null for none
 */
public record QueueControl(String queue, long version, boolean paused, QueueRates.Rate rate) {}
