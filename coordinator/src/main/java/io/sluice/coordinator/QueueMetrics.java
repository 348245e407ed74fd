package io.sluice.coordinator;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.coordinator.CoordinatorRedis.QueueDepth;
import io.sluice.redis.PriorityBand;
import io.sluice.store.Database;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresTaskRecovery;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gauges an autoscaler scales workers on, refreshed every few seconds: per queue the ready
 * depth, the entries read but not yet acknowledged, and the age of the oldest waiting entry; and
 * the dispatch lag, how long the oldest due job has waited to be put on its queue.
 */
final class QueueMetrics implements Runnable {
  private final Database db;
  private final CoordinatorRedis redis;
  private final MeterRegistry metrics;
  private final PostgresTaskRecovery recovery = new PostgresTaskRecovery();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final Map<String, double[]> byQueue = new ConcurrentHashMap<>();
  private volatile double dispatchLagSeconds;

  QueueMetrics(Database db, CoordinatorRedis redis, MeterRegistry metrics) {
    this.db = db;
    this.redis = redis;
    this.metrics = metrics;
    Gauge.builder("sluice_dispatch_lag_seconds", this, m -> m.dispatchLagSeconds)
        .description("How long the oldest due QUEUED job has waited for dispatch")
        .register(metrics);
  }

  @Override
  public void run() {
    Set<String> queues = new TreeSet<>();
    queues.addAll(db.query(recovery::activeQueues));
    queues.addAll(byQueue.keySet());
    for (String queue : queues) {
      Map<String, QueueDepth> bands = redis.queueDepths(PriorityBand.streams(queue));
      double[] values = byQueue.computeIfAbsent(queue, this::register);
      values[0] =
          bands.values().stream().mapToLong(d -> Math.max(0, d.length() - d.pending())).sum();
      values[1] = bands.values().stream().mapToLong(QueueDepth::pending).sum();
      values[2] =
          bands.values().stream().mapToLong(QueueDepth::oldestAgeMs).max().orElse(0) / 1000.0;
    }
    dispatchLagSeconds = db.query(jobs::dispatchLagSeconds);
  }

  private double[] register(String queue) {
    double[] values = new double[3];
    Gauge.builder("sluice_queue_depth", values, v -> v[0])
        .description("Tasks waiting in the queue's ready streams, not yet read by a worker")
        .tag("queue", queue)
        .register(metrics);
    Gauge.builder("sluice_queue_pending", values, v -> v[1])
        .description("Entries read by workers and not yet acknowledged")
        .tag("queue", queue)
        .register(metrics);
    Gauge.builder("sluice_queue_oldest_age_seconds", values, v -> v[2])
        .description("Age of the oldest entry in the queue's ready streams")
        .tag("queue", queue)
        .register(metrics);
    return values;
  }
}
