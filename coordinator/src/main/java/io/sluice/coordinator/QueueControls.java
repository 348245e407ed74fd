package io.sluice.coordinator;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.QueueRates;
import io.sluice.queue.QueueControl;
import io.sluice.store.Database;
import io.sluice.store.PostgresQueueStore;
import io.sluice.store.PostgresQueueStore.QueueRow;
import io.sluice.store.PostgresTaskRecovery;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pause, resume and rate limits of queues: PostgreSQL holds the paused state (durable, versioned),
 * Redis a copy in each queue's control hash that {@code fetch.lua} checks in the same call as its
 * read. A pause is committed first and copied next, so no claim after the commit succeeds (the
 * claim checks the table) and no read after the copy returns an entry. The copy is rebuilt from
 * PostgreSQL at start, after Redis lost its data and every {@link #SYNC_EVERY_SECONDS} s, and a
 * version fence in {@code queue_control.lua} keeps an older state from overwriting a newer one.
 */
final class QueueControls {
  /** How often {@link #sync} runs: the longest a lost copy to Redis stays lost. */
  static final int SYNC_EVERY_SECONDS = 2;

  private static final Logger log = LoggerFactory.getLogger(QueueControls.class);

  private final Database db;
  private final CoordinatorRedis redis;
  private final QueueRates rates;
  private final MeterRegistry metrics;
  private final PostgresQueueStore store = new PostgresQueueStore();
  private final PostgresTaskRecovery recovery = new PostgresTaskRecovery();
  private final Map<String, QueueRow> rows = new ConcurrentHashMap<>();

  QueueControls(Database db, CoordinatorRedis redis, QueueRates rates, MeterRegistry metrics) {
    this.db = db;
    this.redis = redis;
    this.rates = rates;
    this.metrics = metrics;
    rates
        .perQueue()
        .forEach(
            (queue, rate) ->
                Gauge.builder("sluice_queue_rate_limit_per_second", rate::perSecond)
                    .description("The queue's rate limit of task starts, across all workers")
                    .tag("queue", queue)
                    .register(metrics));
  }

  /** Pauses the queue: committed in PostgreSQL, then copied to Redis; returns its row. */
  QueueRow pause(String queue, Caller by) {
    QueueRow row = db.query(c -> store.pause(c, queue, by.tenant()));
    log.info("Queue {} paused by {} (version {})", queue, by.describe(), row.version());
    publish(row);
    return row;
  }

  /** Resumes the queue: committed in PostgreSQL, then copied to Redis; returns its row. */
  QueueRow resume(String queue, Caller by) {
    QueueRow row = db.query(c -> store.resume(c, queue));
    log.info("Queue {} resumed by {} (version {})", queue, by.describe(), row.version());
    publish(row);
    return row;
  }

  /**
   * Copies every queue's state from PostgreSQL and the rate limits to Redis; with {@code activeToo}
   * also each queue that has active jobs (at start and after a data loss, so a rate limit removed
   * from the configuration is removed from Redis too).
   */
  void sync(boolean activeToo) {
    List<QueueRow> all = db.query(store::all);
    Set<String> names = new TreeSet<>(rates.perQueue().keySet());
    if (activeToo) {
      names.addAll(db.query(recovery::activeQueues));
    }
    all.forEach(this::remember);
    List<QueueControl> controls = new ArrayList<>();
    for (String name : names) {
      if (!rows.containsKey(name)) {
        controls.add(new QueueControl(name, 0, false, rates.of(name)));
      }
    }
    all.forEach(r -> controls.add(control(r)));
    redis.controlQueues(controls);
  }

  /** The rows of every queue paused or resumed, as last read or written here, by name. */
  Map<String, QueueRow> rows() {
    return Map.copyOf(rows);
  }

  /** The names of the queues paused, as last read or written here. */
  List<String> paused() {
    return rows.values().stream().filter(QueueRow::paused).map(QueueRow::name).sorted().toList();
  }

  QueueRates rates() {
    return rates;
  }

  private void publish(QueueRow row) {
    remember(row);
    try {
      redis.controlQueues(List.of(control(row)));
    } catch (RuntimeException e) {
      // PostgreSQL already refuses claims of a paused queue; workers read the copy once the next
      // sync writes it.
      log.warn(
          "Copying queue {}'s state to Redis failed; the sync repeats it within {} s: {}",
          row.name(),
          SYNC_EVERY_SECONDS,
          e.toString());
    }
  }

  private QueueControl control(QueueRow row) {
    return new QueueControl(row.name(), row.version(), row.paused(), rates.of(row.name()));
  }

  /** Keeps the newer of the row known and {@code row}; the first sight registers the gauge. */
  private void remember(QueueRow row) {
    if (!rows.containsKey(row.name())) {
      Gauge.builder("sluice_queue_paused", rows, m -> pausedValue(m.get(row.name())))
          .description("1 while the queue is paused (no new task of it starts), else 0")
          .tag("queue", row.name())
          .register(metrics);
    }
    rows.merge(row.name(), row, (old, fresh) -> fresh.version() >= old.version() ? fresh : old);
  }

  private static double pausedValue(QueueRow row) {
    return row != null && row.paused() ? 1 : 0;
  }
}
