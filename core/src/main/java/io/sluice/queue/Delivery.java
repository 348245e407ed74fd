package io.sluice.queue;

import java.util.UUID;

/**
 * One ready-stream entry naming a task.
 *
 * @param queue the stream name it came from ({@link io.sluice.redis.PriorityBand#stream}): a band,
 *     or a concurrency key's stream of a band; it is where the entry is acknowledged
 * @param entryId the stream entry's id
 * @param jobId the task's job
 * @param seq the task's sequence number in its job
 * @param keyLimit for an entry of a concurrency key's stream, the key's limit: the read took one of
 *     its slots, which the task's worker renews while it runs; 0 for any other entry
 */
public record Delivery(String queue, String entryId, UUID jobId, int seq, int keyLimit) {
  /** An entry of a stream without a concurrency key. */
  public Delivery(String queue, String entryId, UUID jobId, int seq) {
    this(queue, entryId, jobId, seq, 0);
  }
}
