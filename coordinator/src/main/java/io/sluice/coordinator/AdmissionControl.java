package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission control of submissions (G8): a submission is accepted only while every stage a new job
 * would wait in has room, and is otherwise shed with 503, a reason and {@code Retry-After}, before
 * it writes anything. The stages, in the order a job passes them:
 *
 * <ol>
 *   <li>submissions in progress: a place is taken for the whole request (the one transaction), so
 *       submitters never hold every database connection and dispatch and collection keep theirs;
 *   <li>the dispatch backlog: a job holds a place from before its insert until its tasks are on
 *       Redis, so accepted-but-undispatched work is bounded exactly, and the dispatch queue sized
 *       to it never overflows;
 *   <li>the ready tasks of the job's queue and the collect backlog, sampled from Redis every {@link
 *       #SAMPLE_MILLIS} ms by {@link #run} (one pipelined round trip, never a query per request);
 *       they may pass their bound by what was admitted upstream meanwhile, never by more.
 * </ol>
 *
 * Every check is an in-memory read, so a shed request costs no database or Redis call; the counters
 * are this coordinator's, so N coordinators admit N times the submissions and dispatch backlog,
 * while the sampled backlogs are shared by all.
 */
final class AdmissionControl implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(AdmissionControl.class);
  static final long SAMPLE_MILLIS = 100;

  /** Why a submission was shed; the name is the {@code reason} of the error and of the metric. */
  enum Reason {
    SUBMISSIONS_IN_PROGRESS(1, "SLUICE_ADMIT_MAX_SUBMITTING"),
    DISPATCH_BACKLOG(1, "SLUICE_ADMIT_MAX_DISPATCH_BACKLOG"),
    COLLECT_BACKLOG(2, "SLUICE_ADMIT_MAX_COLLECT_BACKLOG"),
    QUEUE_BACKLOG(5, "SLUICE_ADMIT_MAX_QUEUED_TASKS");

    final long retryAfterSeconds;
    final String setting;

    Reason(long retryAfterSeconds, String setting) {
      this.retryAfterSeconds = retryAfterSeconds;
      this.setting = setting;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Where the sampled backlogs are read; the coordinator's reads Redis. */
  interface Backlogs {
    /** Collect signals not yet handled. */
    long collectBacklog();

    /** Tasks in the queue's ready streams that no worker has read yet. */
    long queuedTasks(String queue);
  }

  private final AdmissionLimits limits;
  private final Backlogs backlogs;
  private final Semaphore submitting;
  private final Semaphore dispatching;
  private final Map<Reason, Counter> shed = new EnumMap<>(Reason.class);
  private final Map<String, Long> queuedTasks = new ConcurrentHashMap<>();
  private volatile long collectBacklog;

  AdmissionControl(AdmissionLimits limits, MeterRegistry metrics, Backlogs backlogs) {
    this.limits = limits;
    this.backlogs = backlogs;
    this.submitting = new Semaphore(limits.maxSubmitting());
    this.dispatching = new Semaphore(limits.maxDispatchBacklog());
    for (Reason r : Reason.values()) {
      shed.put(
          r,
          Counter.builder("sluice_api_shed_total")
              .description("Submissions refused with 503 because a backlog was at its bound")
              .tag("reason", r.label())
              .register(metrics));
    }
    Gauge.builder("sluice_api_submissions_in_progress", this, AdmissionControl::submissions)
        .description("Submissions holding or waiting for a database connection")
        .register(metrics);
    Gauge.builder("sluice_dispatch_backlog", this, AdmissionControl::dispatchBacklog)
        .description("Jobs accepted by this coordinator whose tasks are not yet on Redis")
        .register(metrics);
    Gauge.builder("sluice_collect_backlog", this, a -> a.collectBacklog)
        .description("Collect signals waiting for their job's collection (sampled)")
        .register(metrics);
  }

  /**
   * Admits a submission to {@code queue} or throws {@link Refusal.Overloaded} (503). The caller
   * closes the ticket when the request ends; a job that goes on to dispatch takes its dispatch
   * place along ({@link Ticket#handOffDispatch}).
   */
  Ticket enter(String queue) {
    return enter(List.of(queue));
  }

  /**
   * Admits a submission of one job per element of {@code queues} (a batch: each job's queue, in any
   * order), all or none: one place among the submissions in progress and a dispatch place per job.
   */
  Ticket enter(List<String> queues) {
    for (String queue : new TreeSet<>(queues)) {
      long ready = queuedTasks.computeIfAbsent(queue, q -> 0L);
      if (ready >= limits.maxQueuedTasks()) {
        throw shed(Reason.QUEUE_BACKLOG, ready, limits.maxQueuedTasks(), " on queue " + queue);
      }
    }
    long collect = collectBacklog;
    if (collect >= limits.maxCollectBacklog()) {
      throw shed(Reason.COLLECT_BACKLOG, collect, limits.maxCollectBacklog(), "");
    }
    int jobs = queues.size();
    if (!dispatching.tryAcquire(jobs)) {
      throw shed(Reason.DISPATCH_BACKLOG, dispatchBacklog(), limits.maxDispatchBacklog(), "");
    }
    boolean admitted = false;
    try {
      admitted = submitting.tryAcquire(limits.submitWait().toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (!admitted) {
        dispatching.release(jobs);
      }
    }
    if (!admitted) {
      throw shed(Reason.SUBMISSIONS_IN_PROGRESS, submissions(), limits.maxSubmitting(), "");
    }
    return new Ticket(jobs);
  }

  private Refusal.Overloaded shed(Reason reason, long current, long limit, String where) {
    shed.get(reason).increment();
    log.debug("Shed a submission: {} {} of {}{}", reason.label(), current, limit, where);
    return new Refusal.Overloaded(
        "the coordinator is overloaded: "
            + reason.label().replace('_', ' ')
            + where
            + " is "
            + current
            + ", at its bound of "
            + limit
            + " ("
            + reason.setting
            + "); nothing was stored, retry after "
            + reason.retryAfterSeconds
            + " s",
        reason,
        current,
        limit);
  }

  /** Samples the Redis backlogs; the coordinator runs it every {@link #SAMPLE_MILLIS} ms. */
  @Override
  public void run() {
    try {
      collectBacklog = backlogs.collectBacklog();
      // Queues with nothing waiting are forgotten, so arbitrary queue names cannot pile up here.
      for (String queue : queuedTasks.keySet()) {
        long ready = backlogs.queuedTasks(queue);
        if (ready > 0) {
          queuedTasks.put(queue, ready);
        } else {
          queuedTasks.remove(queue);
        }
      }
    } catch (RuntimeException e) {
      // Fail open: an accepted job is durable in PostgreSQL and the sweeper dispatches it once
      // Redis answers again; refusing every submission during a Redis blip would be worse.
      collectBacklog = 0;
      queuedTasks.clear();
      log.debug(
          "Sampling the backlogs failed; admitting on the in-memory bounds only: {}", e.toString());
    }
  }

  long submissions() {
    return limits.maxSubmitting() - submitting.availablePermits();
  }

  long dispatchBacklog() {
    return limits.maxDispatchBacklog() - dispatching.availablePermits();
  }

  /** One admitted submission's places; close it when the request ends. */
  final class Ticket implements AutoCloseable {
    private final AtomicInteger dispatchHeld;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Ticket(int jobs) {
      this.dispatchHeld = new AtomicInteger(jobs);
    }

    /**
     * Passes one job's dispatch place to whoever dispatches it, who runs the returned action (once)
     * when the job's tasks are on Redis or its dispatch was given up to the sweeper.
     */
    Runnable handOffDispatch() {
      if (dispatchHeld.getAndUpdate(n -> Math.max(0, n - 1)) == 0) {
        return () -> {};
      }
      AtomicBoolean released = new AtomicBoolean();
      return () -> {
        if (released.compareAndSet(false, true)) {
          dispatching.release();
        }
      };
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        submitting.release();
        int held = dispatchHeld.getAndSet(0);
        if (held > 0) {
          dispatching.release(held);
        }
      }
    }
  }
}
