package io.sluice.store;

import java.util.UUID;

/** A task's identity. */
public record TaskRef(UUID jobId, int seq) {}
