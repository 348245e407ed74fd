/**
 * The Java client of the coordinator's HTTP API: {@link io.sluice.client.SluiceClient} covers the
 * calls of the public contract (submit, read and list jobs and tasks, cancel, change, workers,
 * queues, dead letters, requeue, a worker's drain, readiness). A pipeline is submitted as a {@link
 * io.sluice.client.Pipeline}, and a job's stages read as {@link io.sluice.client.StageSnapshot}s.
 * It retries only what is safe to send again: reads, and a submit with an idempotency key. {@link
 * io.sluice.client.SluiceClient#update} is the read-modify-write of a job done safely: it sends the
 * version it read as {@code If-Match}, and when someone else changed the job first it backs off,
 * reads the job again and re-applies the change, retrying only failures that a retry can fix.
 */
package io.sluice.client;
