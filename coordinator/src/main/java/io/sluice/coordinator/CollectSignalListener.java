package io.sluice.coordinator;

import io.sluice.health.LoopContext;
import io.sluice.health.LoopSupervisor;
import io.sluice.queue.CollectReader;
import io.sluice.queue.CollectSignal;
import io.sluice.queue.QueueProtocol;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Reads "all tasks finished" signals from the collect stream and hands those jobs to the
 * collector's pool. A signal is acknowledged once its collection is queued; a lost signal, or one
 * whose collection could not be queued, is repaired by the sweeper. Runs under the {@link
 * LoopSupervisor}: a lost connection ends the body, and the watchdog starts it again on a fresh
 * connection.
 */
final class CollectSignalListener implements LoopSupervisor.Body {
  private final QueueProtocol redis;
  private final JobCollector collector;
  private final String consumer;
  private volatile CollectReader reader;

  CollectSignalListener(QueueProtocol redis, JobCollector collector, String consumer) {
    this.redis = redis;
    this.collector = collector;
    this.consumer = consumer;
  }

  @Override
  public void run(LoopContext self) {
    try (CollectReader r = redis.collectReader(consumer)) {
      reader = r;
      redis.ensureCollectGroup();
      while (!Thread.currentThread().isInterrupted()) {
        self.beat();
        // A full collector pool slows this reader: signals stay in the stream (where admission
        // control counts them) rather than being acknowledged into a queue that cannot take them.
        int room = Math.min(50, collector.room());
        if (room == 0) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
          continue;
        }
        List<CollectSignal> signals = r.read(room, Duration.ofSeconds(1));
        // Handed to the collector pool, not run here: a long collection must not stop this loop
        // from beating (its watchdog would interrupt it), and whatever a collector throws stays
        // on that pool's side of the boundary.
        for (CollectSignal signal : signals) {
          collector.submit(signal.jobId());
        }
        redis.ackCollect(signals);
      }
    }
  }

  /** Closes the connection a stalled read blocks on. */
  void release() {
    CollectReader r = reader;
    if (r != null) {
      r.close();
    }
  }
}
