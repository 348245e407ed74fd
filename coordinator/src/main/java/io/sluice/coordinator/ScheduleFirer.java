package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.SluiceException;
import io.sluice.store.Job;
import io.sluice.store.PostgresJobControl;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresScheduleFires;
import io.sluice.store.PostgresScheduleFires.Fire;
import io.sluice.store.PostgresScheduleStore;
import io.sluice.store.PostgresScheduleStore.Advance;
import io.sluice.store.Schedule;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's schedule step. Each pass is one fenced transaction over a batch of due schedules
 * (locked FOR UPDATE SKIP LOCKED): it records each fire in {@code schedule_fires}, unique per
 * (schedule, fire time), stores the fire's job, cancels the previous job for {@code
 * cancelPrevious}, and moves the schedule to its next fire time. Fire row and job commit together
 * or not at all, so a fire time gets exactly one job however leaders come and go; the jobs are
 * dispatched after the commit (a lost dispatch is the sweeper's to repeat).
 */
final class ScheduleFirer {
  private static final Logger log = LoggerFactory.getLogger(ScheduleFirer.class);

  /** Schedules fired in one transaction at most. */
  static final int BATCH = 100;

  /**
   * How long a fire's row is kept; pruned by the leader, a batch every {@value #PRUNE_EVERY} calls.
   */
  static final Duration FIRE_HISTORY = Duration.ofDays(7);

  /** Calls of {@link #fireDue} between two prunings of old fires: a minute at 250 ms a call. */
  static final int PRUNE_EVERY = 240;

  /** What a firer works with: jobs are dispatched and cancelled jobs' keys deleted by the two. */
  record Parts(
      JobSubmitter submitter,
      FencedLeader leader,
      Consumer<Job> dispatch,
      Consumer<UUID> cancelled,
      MeterRegistry metrics) {}

  /** What a pass committed: the jobs to dispatch and the jobs it cancelled. */
  private record Pass(int schedules, List<Job> created, List<UUID> cancelled) {}

  /** A fire that submits a job, waiting for the batch's store. */
  private record Submit(Schedule schedule, ScheduleTiming.Plan plan, JobSubmitter.BatchItem job) {}

  private final Parts parts;
  private final PostgresScheduleStore store = new PostgresScheduleStore();
  private final PostgresScheduleFires history = new PostgresScheduleFires();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresJobControl control = new PostgresJobControl();
  private final Counter fired;
  private final Counter skipped;
  // Only the schedules loop's thread calls fireDue.
  private long calls;

  ScheduleFirer(Parts parts) {
    this.parts = parts;
    this.fired = parts.metrics().counter("sluice_schedule_fires_total", "outcome", "submitted");
    this.skipped = parts.metrics().counter("sluice_schedule_fires_total", "outcome", "skipped");
  }

  /** While leader: fires due schedules, a batch per transaction, up to ten batches a call. */
  void fireDue() {
    if (!parts.leader().isLeader()) {
      return;
    }
    try {
      for (int i = 0; i < 10 && fireBatch() == BATCH; i++) {
        // A full batch: more may be due.
      }
      if (++calls % PRUNE_EVERY == 0) {
        parts.leader().fenced(c -> history.pruneFires(c, FIRE_HISTORY, 1000));
      }
    } catch (LeaderElection.NotLeaderException e) {
      // Deposed since the check: the pass committed nothing, and the new leader fires.
      log.debug("Schedule pass given up: {}", e.getMessage());
    }
  }

  /** One fenced pass; returns how many due schedules it handled. */
  int fireBatch() {
    long epoch = parts.leader().epoch();
    Pass pass = parts.leader().fenced(c -> fire(c, epoch));
    pass.cancelled().forEach(parts.cancelled());
    pass.created().forEach(parts.dispatch());
    return pass.schedules();
  }

  private Pass fire(Connection c, long epoch) throws SQLException {
    List<Schedule> due = store.lockDue(c, BATCH);
    if (due.isEmpty()) {
      return new Pass(0, List.of(), List.of());
    }
    Instant now = store.now(c);
    Map<UUID, Job> previous = new LinkedHashMap<>();
    List<UUID> lastIds = due.stream().map(Schedule::lastJobId).filter(Objects::nonNull).toList();
    if (!lastIds.isEmpty()) {
      jobs.findAll(c, lastIds).forEach(j -> previous.put(j.id(), j));
    }
    List<Fire> fires = new ArrayList<>();
    List<Advance> moves = new ArrayList<>();
    List<Submit> submits = new ArrayList<>();
    List<UUID> cancelled = new ArrayList<>();
    for (Schedule s : due) {
      ScheduleTiming.Plan plan =
          ScheduleDefinition.timing(s).plan(s.nextFireAt(), now, s.catchUp());
      if (plan.fireTime() == null) {
        log.info(
            "Schedule {}/{} missed {} fire time(s) while no coordinator led; catchUp none: it"
                + " fires next at {}",
            s.tenant(),
            s.name(),
            plan.missed(),
            plan.next());
        moves.add(new Advance(s.id(), plan.next(), null, null));
        continue;
      }
      Job last = previous.get(s.lastJobId());
      boolean unfinished = last != null && !last.status().isTerminal();
      JobSubmitter.BatchItem job =
          unfinished && s.overlap().equals("skip") ? null : prepare(s, plan);
      if (job == null) {
        fires.add(new Fire(s.id(), plan.fireTime(), null, epoch));
        moves.add(new Advance(s.id(), plan.next(), plan.fireTime(), null));
        continue;
      }
      if (unfinished && s.overlap().equals("cancelPrevious") && cancel(c, last)) {
        cancelled.add(last.id());
      }
      submits.add(new Submit(s, plan, job));
    }
    List<Job> created = store(c, submits, fires, moves, epoch);
    history.recordFires(c, fires);
    store.advance(c, moves);
    return new Pass(due.size(), created, cancelled);
  }

  /** Stores the batch's jobs, tenant by tenant, and notes their fires; returns the new ones. */
  private List<Job> store(
      Connection c, List<Submit> submits, List<Fire> fires, List<Advance> moves, long epoch)
      throws SQLException {
    Map<String, List<Submit>> byTenant = new LinkedHashMap<>();
    submits.forEach(
        s -> byTenant.computeIfAbsent(s.schedule().tenant(), t -> new ArrayList<>()).add(s));
    List<Job> created = new ArrayList<>();
    for (var tenant : byTenant.entrySet()) {
      List<Submit> its = tenant.getValue();
      List<JobSubmitter.Outcome> outcomes =
          parts.submitter().storeIn(c, tenant.getKey(), its.stream().map(Submit::job).toList());
      for (int i = 0; i < its.size(); i++) {
        Submit s = its.get(i);
        Job job = outcomes.get(i).job();
        if (outcomes.get(i).created()) {
          created.add(job);
        }
        fires.add(new Fire(s.schedule().id(), s.plan().fireTime(), job.id(), epoch));
        moves.add(new Advance(s.schedule().id(), s.plan().next(), s.plan().fireTime(), job.id()));
      }
    }
    fired.increment(submits.size());
    skipped.increment(fires.size() - submits.size());
    return created;
  }

  /**
   * The fire's job, validated as a submit is, with an idempotency key of its own per (schedule,
   * fire time); null when it is no longer valid (a job type removed since), so the fire is skipped.
   */
  private JobSubmitter.BatchItem prepare(Schedule s, ScheduleTiming.Plan plan) {
    try {
      SubmitRequest r = SubmitRequestParser.parse(s.job());
      String key = "schedule:" + s.id() + ":" + plan.fireTime();
      SubmitRequest keyed =
          new SubmitRequest(
              r.type(),
              r.queue(),
              r.payload(),
              key,
              r.priority(),
              r.maxAttempts(),
              r.onTaskFailure(),
              r.labels(),
              null,
              r.stages(),
              r.limits(),
              r.callback(),
              r.concurrencyKey(),
              r.concurrencyLimit());
      return parts.submitter().prepare(s.tenant(), keyed);
    } catch (SluiceException e) {
      log.warn(
          "Schedule {}/{}: its job is not valid any more ({}); the fire at {} is skipped",
          s.tenant(),
          s.name(),
          e.getMessage(),
          plan.fireTime());
      return null;
    }
  }

  /** Cancels the schedule's unfinished previous job; false when it finished meanwhile. */
  private boolean cancel(Connection c, Job last) throws SQLException {
    Savepoint before = c.setSavepoint();
    PostgresJobControl.Outcome outcome = control.cancel(c, last.tenant(), last.id(), null);
    if (outcome instanceof PostgresJobControl.Applied) {
      c.releaseSavepoint(before);
      return true;
    }
    c.rollback(before);
    return false;
  }
}
