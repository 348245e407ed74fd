package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import io.sluice.store.PostgresRetention;
import io.sluice.store.PostgresRetention.Marked;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's retention step: deletes finished jobs older than {@link RetentionConfig#retention}
 * with their stages, tasks and events, so PostgreSQL stops growing however long Sluice runs. Each
 * batch of jobs is marked in one transaction, its rows deleted a bounded chunk per transaction and
 * its job rows last, every transaction behind the leader fence: a deposed leader deletes nothing.
 * The Redis keys of the deleted jobs go too, in case the collector's deletion of them was lost.
 */
final class DeleteExpiredJobs implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(DeleteExpiredJobs.class);
  // A run ends after this many batches, so each logs its counts; the next run goes on.
  private static final int BATCHES_PER_RUN = 100;

  private final RetentionConfig config;
  private final Database db;
  private final LeaderElection leader;
  private final QueueProtocol redis;
  private final Clock clock;
  private final PostgresRetention store = new PostgresRetention();
  private final Counter deletedJobs;
  private final Counter deletedStages;
  private final Counter deletedTasks;
  private final Counter deletedEvents;
  private final Counter transactions;
  private final Counter vacuums;
  private final AtomicLong lastRun = new AtomicLong();
  private boolean warnedAutovacuumOff;

  /** What one run deleted, and in how many transactions of at most how many rows each. */
  record Run(int jobs, int stages, long tasks, long events, int transactions, long largestChunk) {
    static final Run NONE = new Run(0, 0, 0, 0, 0, 0);

    Run plus(Run o) {
      return new Run(
          jobs + o.jobs,
          stages + o.stages,
          tasks + o.tasks,
          events + o.events,
          transactions + o.transactions,
          Math.max(largestChunk, o.largestChunk));
    }
  }

  DeleteExpiredJobs(
      RetentionConfig config,
      Database db,
      LeaderElection leader,
      QueueProtocol redis,
      Clock clock,
      MeterRegistry metrics) {
    this.config = config;
    this.db = db;
    this.leader = leader;
    this.redis = redis;
    this.clock = clock;
    this.deletedJobs = metrics.counter("sluice_retention_deleted_jobs_total");
    this.deletedStages = rows(metrics, "stages");
    this.deletedTasks = rows(metrics, "tasks");
    this.deletedEvents = rows(metrics, "job_events");
    this.transactions = metrics.counter("sluice_retention_transactions_total");
    this.vacuums = metrics.counter("sluice_retention_vacuums_total");
    metrics.gauge("sluice_retention_last_run_seconds", lastRun, AtomicLong::get);
  }

  private static Counter rows(MeterRegistry metrics, String table) {
    return metrics.counter("sluice_retention_deleted_rows_total", "table", table);
  }

  @Override
  public void run() {
    runOnce();
  }

  /** One run: batches of expired jobs until none is left or the run's bound is reached. */
  Run runOnce() {
    if (!config.enabled() || !leader.isLeader()) {
      return Run.NONE;
    }
    long started = clock.millis();
    Run total = Run.NONE;
    for (int i = 0; i < BATCHES_PER_RUN; i++) {
      Marked batch =
          leader.fenced(c -> store.markExpired(c, config.retention(), config.jobBatch()));
      Run one = delete(batch).plus(new Run(0, 0, 0, 0, 1, 0));
      transactions.increment(one.transactions());
      total = total.plus(one);
      if (batch.jobs().size() < config.jobBatch()) {
        break;
      }
    }
    if (total.jobs() > 0) {
      vacuumUnlessAutovacuum();
    }
    lastRun.set(clock.millis() / 1000);
    report(total, clock.millis() - started);
    return total;
  }

  /**
   * Deleted rows are dead tuples until a vacuum makes their space reusable; with the server's
   * autovacuum off nothing would, and the tables would grow as if nothing were deleted. Then the
   * leader vacuums the per-job tables itself after each run that deleted anything.
   */
  private void vacuumUnlessAutovacuum() {
    try {
      if (db.query(store::autovacuumOn)) {
        return;
      }
      if (!warnedAutovacuumOff) {
        warnedAutovacuumOff = true;
        log.warn(
            "PostgreSQL's autovacuum is off: the leader vacuums jobs, tasks and job_events after"
                + " each retention run, or deleted rows would never be reused");
      }
      db.query(
          c -> {
            store.vacuum(c);
            return null;
          });
      vacuums.increment();
    } catch (RuntimeException e) {
      log.warn("Vacuum after retention failed; the next run tries again: {}", e.toString());
    }
  }

  private Run delete(Marked batch) {
    if (batch.all().isEmpty()) {
      return Run.NONE;
    }
    List<UUID> all = batch.all();
    Chunks tasks = chunks(c -> store.deleteTasks(c, all, config.rowBatch()));
    Chunks events = chunks(c -> store.deleteEvents(c, all, config.rowBatch()));
    int rows = leader.fenced(c -> store.deleteJobs(c, batch));
    int stages = rows - batch.jobs().size();
    deletedJobs.increment(batch.jobs().size());
    deletedStages.increment(stages);
    deletedTasks.increment(tasks.rows());
    deletedEvents.increment(events.rows());
    try {
      redis.deleteJobKeys(all);
    } catch (RuntimeException e) {
      log.warn("Deleting the Redis keys of {} expired jobs failed: {}", all.size(), e.toString());
    }
    return new Run(
        batch.jobs().size(),
        stages,
        tasks.rows(),
        events.rows(),
        tasks.transactions() + events.transactions() + 1,
        Math.max(rows, Math.max(tasks.largest(), events.largest())));
  }

  /** Rows deleted by chunks, in how many transactions, the largest chunk. */
  private record Chunks(long rows, int transactions, long largest) {}

  /** Deletes chunk after chunk, one fenced transaction each, until one comes back short. */
  private Chunks chunks(Database.TxWork<Integer> chunk) {
    long rows = 0;
    int txs = 0;
    long largest = 0;
    int n;
    do {
      n = leader.fenced(chunk);
      rows += n;
      txs++;
      largest = Math.max(largest, n);
    } while (n == config.rowBatch());
    return new Chunks(rows, txs, largest);
  }

  private void report(Run run, long millis) {
    if (run.jobs() == 0) {
      log.debug("Retention run: no finished job older than {}", config.retention());
      return;
    }
    log.info(
        "Retention run deleted {} job(s) finished more than {} ago, with {} stage(s), {} task(s)"
            + " and {} event(s), in {} transaction(s) of at most {} rows, in {} ms",
        run.jobs(),
        config.retention(),
        run.stages(),
        run.tasks(),
        run.events(),
        run.transactions(),
        run.largestChunk(),
        millis);
  }
}
