package io.sluice.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;

/** The parts of a worker its loops share. */
record WorkerContext(
    WorkerConfig config,
    Database db,
    QueueProtocol redis,
    Semaphore slots,
    InFlight inFlight,
    TaskRunner runner,
    CompletionWriter writer,
    ExecutorService handlers,
    MeterRegistry metrics) {}
