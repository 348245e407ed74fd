package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews every held lease in one statement, a third of the lease into it. A task whose lease is
 * gone (reclaimed after a pause, or its job cancelled) is told to stop; if renewal itself keeps
 * failing until the lease could have expired, every running task is told to stop, before anyone
 * else can claim it.
 */
final class LeaseRenewer implements Runnable, io.sluice.health.LoopSupervisor.Body {
  private static final Logger log = LoggerFactory.getLogger(LeaseRenewer.class);

  private final WorkerConfig config;
  private final Database db;
  private final InFlight inFlight;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final Counter renewals;
  private final Counter failures;
  private volatile long lastSuccess = System.nanoTime();

  LeaseRenewer(WorkerConfig config, Database db, InFlight inFlight, MeterRegistry metrics) {
    this.config = config;
    this.db = db;
    this.inFlight = inFlight;
    this.renewals = metrics.counter("sluice_lease_renewals_total");
    this.failures = metrics.counter("sluice_lease_renewal_failures_total");
  }

  @Override
  public void run(io.sluice.health.LoopSupervisor.Loop self) throws InterruptedException {
    long periodMs = config.lease().toMillis() / 3;
    while (true) {
      self.beat();
      run();
      Thread.sleep(periodMs);
    }
  }

  @Override
  public void run() {
    List<RunningTask> held = List.copyOf(inFlight.all());
    if (held.isEmpty()) {
      lastSuccess = System.nanoTime();
      return;
    }
    try {
      List<ClaimedTask> claims = held.stream().map(t -> t.claim).toList();
      Set<TaskRef> renewed =
          new HashSet<>(db.inTransaction(c -> tasks.renew(c, config.lease(), claims)));
      lastSuccess = System.nanoTime();
      renewals.increment(renewed.size());
      for (RunningTask t : held) {
        if (!renewed.contains(t.claim.ref())
            && inFlight.get(t.claim.ref()) == t
            && !t.isCancelled()) {
          t.cancel();
          log.warn(
              "Lost the lease of task {}/{} (reclaimed after a pause, or its job was cancelled or"
                  + " failed); its handler is told to stop and its result will be rejected",
              t.jobId(),
              t.seq());
        }
      }
    } catch (RuntimeException e) {
      failures.increment();
      long sinceMs = (System.nanoTime() - lastSuccess) / 1_000_000;
      log.warn("Lease renewal failed ({} ms since the last success): {}", sinceMs, e.toString());
      if (sinceMs > config.lease().toMillis() * 2 / 3) {
        held.forEach(RunningTask::cancel);
        log.warn("Leases may have expired; {} running task(s) are told to stop", held.size());
      }
    }
  }

  /** True while renewals succeed often enough to keep leases. */
  boolean healthy() {
    return (System.nanoTime() - lastSuccess) / 1_000_000 < config.lease().toMillis() / 2;
  }
}
