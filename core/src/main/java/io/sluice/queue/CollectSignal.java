package io.sluice.queue;

import java.util.UUID;

/**
 * A "this job's tasks are all finished" signal read from the collect stream.
 *
 * @param entryId the stream entry's id, to acknowledge it by
 * @param jobId the job to collect
 */
public record CollectSignal(String entryId, UUID jobId) {}
