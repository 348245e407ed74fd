package io.sluice.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.loop.MonotonicClock;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews every held lease in one statement, a third of the lease into it. A task whose lease is
 * gone (reclaimed after a pause, or its job cancelled) is told to stop and renewed no more; if
 * renewal itself keeps failing until the lease could have expired, every held task is told to stop,
 * before anyone else can claim it, and is handed back rather than committed.
 */
final class LeaseRenewer {
  private static final Logger log = LoggerFactory.getLogger(LeaseRenewer.class);

  /** Extends leases in one transaction; the renewed ones come back. Tests give a fake. */
  @FunctionalInterface
  interface Leases {
    Set<TaskRef> renew(Duration lease, List<ClaimedTask> claims);
  }

  private final WorkerConfig config;
  private final Leases leases;
  private final InFlight inFlight;
  private final Counter renewals;
  private final Counter failures;
  private final Clock clock;
  private volatile long lastSuccess;
  private volatile boolean outage;

  LeaseRenewer(WorkerConfig config, Database db, InFlight inFlight, MeterRegistry metrics) {
    this(config, postgres(db), inFlight, metrics, MonotonicClock.start());
  }

  /** Measuring the time since the last successful renewal on {@code clock}. */
  LeaseRenewer(
      WorkerConfig config, Leases leases, InFlight inFlight, MeterRegistry metrics, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.lastSuccess = clock.millis();
    this.leases = leases;
    this.inFlight = inFlight;
    this.renewals = metrics.counter("sluice_lease_renewals_total");
    this.failures = metrics.counter("sluice_lease_renewal_failures_total");
  }

  /** The leases of the {@code tasks} table. */
  static Leases postgres(Database db) {
    PostgresTaskStore tasks = new PostgresTaskStore();
    return (lease, claims) -> new HashSet<>(db.inTransaction(c -> tasks.renew(c, lease, claims)));
  }

  /** How often {@link #renewOnce} runs: a third of the lease. */
  Duration period() {
    return config.lease().dividedBy(3);
  }

  /**
   * Renews the leases still held: every claim in flight, running or finished but not yet committed
   * (its row stays RUNNING until the commit, so letting it lapse would get a finished task
   * reclaimed and its result rejected), except those already found lost. The set is bounded by the
   * in-flight capacity, so one statement never covers an unbounded backlog.
   */
  void renewOnce() {
    List<RunningTask> held = inFlight.all().stream().filter(t -> !t.isLeaseLost()).toList();
    if (held.isEmpty()) {
      recovered();
      return;
    }
    try {
      List<ClaimedTask> claims = held.stream().map(t -> t.claim).toList();
      Set<TaskRef> renewed = leases.renew(config.lease(), claims);
      recovered();
      renewals.increment(renewed.size());
      // The fence renews at most the newest claim of a task; an older one of the same task (a late
      // commit still pending) is lost.
      Map<TaskRef, Long> newest = new HashMap<>();
      held.forEach(t -> newest.merge(t.claim.ref(), t.claim.leaseEpoch(), Math::max));
      for (RunningTask t : held) {
        boolean kept =
            renewed.contains(t.claim.ref()) && newest.get(t.claim.ref()) == t.claim.leaseEpoch();
        if (!kept && inFlight.get(InFlight.Key.of(t.claim)) == t) {
          t.leaseLost();
          t.stop("lost its lease (reclaimed after a pause, or its job was cancelled or failed)");
          log.warn(
              "Lost the lease of task {}/{} (reclaimed after a pause, or its job was cancelled or"
                  + " failed); its handler is told to stop and its result will not be committed",
              t.jobId(),
              t.seq());
        }
      }
    } catch (RuntimeException e) {
      failures.increment();
      long sinceMs = clock.millis() - lastSuccess;
      log.warn("Lease renewal failed ({} ms since the last success): {}", sinceMs, e.toString());
      if (sinceMs > config.lease().toMillis() * 2 / 3) {
        outage = true;
        String reason = "lease renewal failed for " + sinceMs + " ms";
        held.forEach(t -> t.stop(reason));
        log.warn(
            "Leases may have expired; {} task(s) are told to stop and will be handed back unfinished",
            held.size());
      }
    }
  }

  private void recovered() {
    lastSuccess = clock.millis();
    if (outage) {
      outage = false;
      // Stop requests stay: a handler may have returned early on one. Those tasks are handed back
      // (their attempt not spent) when their handlers return; the rest keep their renewed leases.
      log.info("Lease renewal works again; tasks told to stop during the outage are handed back");
    }
  }

  /** True while renewals succeed often enough to keep leases. */
  boolean healthy() {
    return clock.millis() - lastSuccess < config.lease().toMillis() / 2;
  }
}
