package io.sluice.queue;

import java.util.UUID;

/**
 * One ready-stream entry naming a task.
 *
 * @param queue the band's stream name it came from ({@link io.sluice.redis.PriorityBand#stream}),
 *     which is where it is acknowledged
 * @param entryId the stream entry's id
 * @param jobId the task's job
 * @param seq the task's sequence number in its job
 */
public record Delivery(String queue, String entryId, UUID jobId, int seq) {}
