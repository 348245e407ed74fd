package io.sluice.coordinator;

import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.coordinator.redis.LettuceCoordination.CollectSignal;
import io.sluice.health.LoopSupervisor;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads "all tasks finished" signals from the collect stream and collects those jobs. A signal is
 * acknowledged only after its collection was attempted; a lost signal is repaired by the sweeper.
 * Runs under the {@link LoopSupervisor}: a lost connection ends the body, and the watchdog starts
 * it again on a fresh connection.
 */
final class CollectSignalListener implements LoopSupervisor.Body {
  private static final Logger log = LoggerFactory.getLogger(CollectSignalListener.class);

  private final LettuceCoordination redis;
  private final JobCollector collector;
  private final String consumer;
  private volatile LettuceCoordination.CollectReader reader;

  CollectSignalListener(LettuceCoordination redis, JobCollector collector, String consumer) {
    this.redis = redis;
    this.collector = collector;
    this.consumer = consumer;
  }

  @Override
  public void run(LoopSupervisor.Loop self) {
    try (LettuceCoordination.CollectReader r = redis.collectReader(consumer)) {
      reader = r;
      redis.ensureCollectGroup();
      while (!Thread.currentThread().isInterrupted()) {
        self.beat();
        List<CollectSignal> signals = r.read(50, Duration.ofSeconds(1));
        for (CollectSignal signal : signals) {
          try {
            collector.collect(signal.jobId());
          } catch (RuntimeException e) {
            log.warn(
                "Collecting job {} failed; the sweeper retries it: {}",
                signal.jobId(),
                e.toString());
          }
        }
        redis.ackCollect(signals);
      }
    }
  }

  /** Closes the connection a stalled read blocks on. */
  void release() {
    LettuceCoordination.CollectReader r = reader;
    if (r != null) {
      r.close();
    }
  }
}
