package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskProgress;
import io.sluice.store.PostgresTaskProgress.Report;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches handlers' progress reports: a few times a second it takes the latest unwritten report of
 * every running task and writes them all in one statement, each to its own task's row and fenced by
 * its claim's epoch. A handler reporting a thousand times a second costs one row write per tick.
 */
final class ProgressWriter {
  private static final Logger log = LoggerFactory.getLogger(ProgressWriter.class);

  /** How often {@link #flush} runs. */
  static final Duration TICK = Duration.ofMillis(250);

  private final Database db;
  private final InFlight inFlight;
  private final PostgresTaskProgress store = new PostgresTaskProgress();
  private final Counter written;

  ProgressWriter(Database db, InFlight inFlight, MeterRegistry metrics) {
    this.db = db;
    this.inFlight = inFlight;
    this.written = metrics.counter("sluice_progress_reports_written_total");
  }

  /** Writes every task's latest unwritten report; package-private so tests can drive it. */
  void flush() {
    List<RunningTask> tasks = new ArrayList<>();
    List<RunningTask.Progress> taken = new ArrayList<>();
    List<Report> batch = new ArrayList<>();
    for (RunningTask t : inFlight.all()) {
      RunningTask.Progress p = t.takeUnwrittenProgress();
      if (p != null) {
        tasks.add(t);
        taken.add(p);
        batch.add(
            new Report(t.jobId(), t.seq(), t.fenceToken(), p.fraction(), p.phase(), p.message()));
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      written.increment(db.inTransaction(c -> store.write(c, batch)));
    } catch (RuntimeException e) {
      for (int i = 0; i < tasks.size(); i++) {
        tasks.get(i).restoreUnwrittenProgress(taken.get(i));
      }
      log.warn(
          "Writing {} progress report(s) failed; retrying next tick: {}",
          batch.size(),
          e.toString());
    }
  }
}
