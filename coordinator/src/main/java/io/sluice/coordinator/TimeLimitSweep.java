package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.loop.Backoff;
import io.sluice.store.Database;
import io.sluice.store.PostgresTimeLimits;
import io.sluice.store.PostgresTimeLimits.Ended;
import io.sluice.store.PostgresTimeLimits.Expiry;
import io.sluice.store.PostgresTimeLimits.Overdue;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's step that enforces time limits on PostgreSQL's clock, in batches behind the leader
 * fence: it fails jobs past their {@code deadline} ("deadline exceeded", their tasks cancelled, so
 * running handlers learn it from their next lease renewal), and it fails the attempts that ran past
 * their {@code taskTimeout} plus a grace without their worker failing them (a stuck handler that
 * ignores its stop, a worker that stopped acting), which bumps their fence so a late result is
 * refused. The worker's own timer is the primary path; this is the safety net.
 */
final class TimeLimitSweep {
  private static final Logger log = LoggerFactory.getLogger(TimeLimitSweep.class);
  private static final int BATCH = 1000;
  // Time for a handler that honoured its stop to return and its worker to commit the failure.
  static final Duration GRACE = Duration.ofSeconds(2);

  private final Database db;
  private final CoordinatorRedis redis;
  private final LeaderElection leader;
  private final PostgresTimeLimits limits = new PostgresTimeLimits();
  private final Counter timedOut;
  private final Counter pastDeadline;

  TimeLimitSweep(
      Database db, CoordinatorRedis redis, LeaderElection leader, MeterRegistry metrics) {
    this.db = db;
    this.redis = redis;
    this.leader = leader;
    this.timedOut = metrics.counter("sluice_tasks_timed_out_by_leader_total");
    this.pastDeadline = metrics.counter("sluice_jobs_deadline_exceeded_total");
  }

  void sweepOnce() {
    if (!leader.isLeader()) {
      return;
    }
    failJobsPastDeadline();
    timeOutOverdueAttempts();
  }

  private void failJobsPastDeadline() {
    List<UUID> due = db.query(c -> limits.pastDeadline(c, BATCH));
    if (due.isEmpty()) {
      return;
    }
    Ended ended = leader.fenced(c -> limits.failPastDeadline(c, due));
    pastDeadline.increment(ended.failedJobs().size());
    if (!ended.failedJobs().isEmpty()) {
      log.warn(
          "Jobs {} FAILED: deadline exceeded; their tasks are cancelled and running handlers are"
              + " told to stop",
          ended.failedJobs());
      // A failed job is finished: its fan-in keys go at once; its history is in PostgreSQL.
      redis.deleteJobKeys(ended.allRows());
    }
  }

  private void timeOutOverdueAttempts() {
    List<Overdue> overdue = db.query(c -> limits.overdue(c, GRACE, BATCH));
    if (overdue.isEmpty()) {
      return;
    }
    List<Expiry> expiries = overdue.stream().map(TimeLimitSweep::expiry).toList();
    int count = leader.fenced(c -> limits.timeOut(c, expiries));
    timedOut.increment(count);
    if (count > 0) {
      log.warn(
          "Failed {} attempt(s) that ran past their task timeout without their worker ending them;"
              + " they retry by maxAttempts and their late results are refused",
          count);
    }
  }

  /**
   * The attempt's failure: its retry waits the job's own backoff (without jitter), or not at all
   * when the job has none, since the workers' SLUICE_RETRY_BASE is theirs, not the coordinator's.
   * One past its last attempt is failed for good by the worker that claims it next.
   */
  static Expiry expiry(Overdue o) {
    TimeLimits l = o.limits();
    long delay =
        l.retryBase() == null || o.attempt() >= o.maxAttempts()
            ? 0
            : Backoff.exponential(l.retryBase(), l.retryMax()).delayMillis(o.attempt());
    return new Expiry(
        o.jobId(), o.seq(), o.leaseEpoch(), TimeLimits.timedOutError(o.timeout()), delay);
  }
}
