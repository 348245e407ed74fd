package io.sluice.coordinator;

import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.coordinator.redis.LettuceCoordination.CollectSignal;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads "all tasks finished" signals from the collect stream and collects those jobs. A signal is
 * acknowledged only after its collection was attempted; a lost signal is repaired by the sweeper.
 */
final class CollectSignalListener implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(CollectSignalListener.class);

  private final LettuceCoordination redis;
  private final JobCollector collector;
  private final String consumer;
  private volatile boolean running = true;
  private volatile long lastBeat = System.nanoTime();

  CollectSignalListener(LettuceCoordination redis, JobCollector collector, String consumer) {
    this.redis = redis;
    this.collector = collector;
    this.consumer = consumer;
  }

  @Override
  public void run() {
    long backoffMs = 100;
    while (running) {
      try (LettuceCoordination.CollectReader reader = redis.collectReader(consumer)) {
        redis.ensureCollectGroup();
        backoffMs = 100;
        while (running) {
          lastBeat = System.nanoTime();
          List<CollectSignal> signals = reader.read(50, Duration.ofSeconds(1));
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
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        log.warn(
            "Collect listener lost its connection; reconnecting in {} ms: {}",
            backoffMs,
            e.toString());
        sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  /** True while the loop has come round within the last few seconds. */
  boolean alive() {
    return System.nanoTime() - lastBeat < Duration.ofSeconds(10).toNanos();
  }

  void stop() {
    running = false;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
