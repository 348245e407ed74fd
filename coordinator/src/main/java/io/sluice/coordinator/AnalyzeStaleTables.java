package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresRetention;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's statistics step, where the server's autovacuum is off: analyzes {@code jobs}, {@code
 * tasks} and {@code job_events} whenever their rows changed by more than autovacuum's own threshold
 * since they were last analyzed. Without it their statistics are those of the empty tables the
 * migrations made, and every prepared statement keeps the plan made for them: a batch lookup
 * planned as a sequential scan of a few pages goes on scanning the whole table, and a fence on
 * {@code status} goes through a partial index full of entries of rows long finished (BENCHMARKS.md,
 * "Plans that scanned the tables"). An analysis also invalidates those plans, so each is made again
 * for the tables as they are.
 */
final class AnalyzeStaleTables implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(AnalyzeStaleTables.class);

  private final Database db;
  private final LeaderElection leader;
  private final PostgresRetention store = new PostgresRetention();
  private final Counter analyzed;
  private Boolean autovacuum;

  AnalyzeStaleTables(Database db, LeaderElection leader, MeterRegistry metrics) {
    this.db = db;
    this.leader = leader;
    this.analyzed = metrics.counter("sluice_tables_analyzed_total");
  }

  @Override
  public void run() {
    if (!leader.isLeader()) {
      return;
    }
    if (autovacuum == null) {
      autovacuum = db.query(store::autovacuumOn);
      if (!autovacuum) {
        log.info(
            "PostgreSQL's autovacuum is off: the leader analyzes jobs, tasks and job_events itself"
                + " when a tenth of their rows changed");
      }
    }
    if (autovacuum) {
      return;
    }
    List<String> tables = db.query(store::analyzeStale);
    if (!tables.isEmpty()) {
      analyzed.increment(tables.size());
      log.debug("Analyzed {}", tables);
    }
  }
}
