package io.sluice.worker;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.sluice.api.JobType;
import io.sluice.api.NonRetryableException;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import io.sluice.store.Completion;
import io.sluice.store.TaskStatus;
import io.sluice.store.TimeLimits;
import io.sluice.tracing.Tracing;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs one claimed task and turns whatever happened into a {@link Completion}: the one boundary
 * where a handler's failure is caught and routed to the retry policy.
 */
final class TaskRunner {
  private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);

  /** Finds a job type by name: the classpath's registry, or a test's few types. */
  @FunctionalInterface
  interface JobTypes {
    Optional<JobType> find(String name);
  }

  private final JobTypes types;
  private final RetryPolicy retry;
  private final ConcurrencyGate gate;
  private final TaskTimer timer;
  private final Tracer tracer;

  TaskRunner(JobTypes types, RetryPolicy retry) {
    this(types, retry, ConcurrencyGate.UNLIMITED);
  }

  TaskRunner(JobTypes types, RetryPolicy retry, ConcurrencyGate gate) {
    this(types, retry, gate, TaskTimer.NONE);
  }

  TaskRunner(JobTypes types, RetryPolicy retry, ConcurrencyGate gate, TaskTimer timer) {
    this(types, retry, gate, timer, Tracing.off().tracer());
  }

  /**
   * @param tracer where each run's {@code sluice.task} span is recorded (a no-op when off)
   */
  TaskRunner(
      JobTypes types, RetryPolicy retry, ConcurrencyGate gate, TaskTimer timer, Tracer tracer) {
    this.types = types;
    this.retry = retry;
    this.gate = gate;
    this.timer = timer;
    this.tracer = tracer;
  }

  /**
   * Runs the task in a {@code sluice.task} span whose parent is the job's (its stage's) span as the
   * claim read it from PostgreSQL, so the run joins the job's trace on whichever worker, attempt or
   * redelivery it is.
   */
  Completion run(RunningTask task) {
    Span span =
        tracer
            .spanBuilder("sluice.task")
            .setParent(Tracing.parent(task.claim.traceParent()))
            .setSpanKind(SpanKind.CONSUMER)
            .setAttribute(Tracing.JOB_ID, task.jobId().toString())
            .setAttribute(Tracing.JOB_TYPE, task.claim.type())
            .setAttribute(Tracing.QUEUE, task.queue)
            .setAttribute(Tracing.TASK_SEQ, (long) task.seq())
            .setAttribute(Tracing.TASK_ATTEMPT, (long) task.attempt())
            .startSpan();
    task.traceParent(Tracing.traceParent(span.getSpanContext()));
    try (Scope scope = span.makeCurrent()) {
      Completion completion = runTraced(task);
      span.setAttribute(Tracing.OUTCOME, completion.status().name());
      if (completion.status() == TaskStatus.FAILED
          || completion.status() == TaskStatus.RETRY_WAIT) {
        span.setStatus(StatusCode.ERROR, String.valueOf(completion.error()));
      }
      return completion;
    } finally {
      span.end();
    }
  }

  private Completion runTraced(RunningTask task) {
    MDC.put("jobId", task.jobId().toString());
    try {
      if (task.attempt() > task.maxAttempts()) {
        // Delivered more often than allowed (earlier deliveries crashed their worker, or the
        // leader timed out the last one): dead-letter it, with the timeout's error if that was it.
        String last = task.claim.lastError();
        return failed(
            task,
            TimeLimits.isTimeout(last)
                ? last
                : "gave up after "
                    + (task.attempt() - 1)
                    + " deliveries of at most "
                    + task.maxAttempts());
      }
      JobType type = types.find(task.claim.type()).orElse(null);
      if (type == null) {
        return failed(
            task, "job type '" + task.claim.type() + "' is not on this worker's classpath");
      }
      return execute(task, type);
    } finally {
      MDC.remove("jobId");
    }
  }

  private Completion execute(RunningTask task, JobType type) {
    RetryPolicy policy = retry.of(task.claim.limits());
    Runnable stopTimer = timer.start(task);
    try {
      TaskResult result;
      try (ConcurrencyGate.Permit permit = gate.acquire(task)) {
        if (permit == null) {
          return handBack(task);
        }
        // The permit is closed only when the handler returns, however long it ignores a stop.
        result = type.handler().handle(task);
      }
      if (task.isCancelled()) {
        // Told to stop before it returned: it may have cut its work short, so whatever it says is
        // not committed; the task runs again without spending this attempt, unless its time ran
        // out, which spends it.
        return stopped(task, policy);
      }
      return switch (result) {
        case TaskResult.Success s ->
            new Completion(
                task.jobId(),
                task.seq(),
                task.fenceToken(),
                TaskStatus.SUCCEEDED,
                s.output() == null ? null : Json.write(s.output()),
                null,
                0);
        case TaskResult.Retry r ->
            retryOrFail(
                task, r.reason(), Math.max(r.delay().toMillis(), policy.delayMs(task.attempt())));
        case TaskResult.Fail f -> failed(task, f.reason());
      };
    } catch (NonRetryableException e) {
      return task.isCancelled() ? stopped(task, policy) : failed(task, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return task.isCancelled()
          ? stopped(task, policy)
          : retryOrFail(task, "interrupted", policy.delayMs(task.attempt()));
    } catch (Exception | LinkageError | StackOverflowError e) {
      // A failure thrown after a stop request is most likely the stop itself: hand it back too.
      return task.isCancelled()
          ? stopped(task, policy)
          : retryOrFail(task, e.toString(), policy.delayMs(task.attempt()));
    } finally {
      stopTimer.run();
    }
  }

  /** A task told to stop: a timed-out attempt fails (and may retry), any other is handed back. */
  private static Completion stopped(RunningTask task, RetryPolicy policy) {
    return task.timedOut()
        ? retryOrFail(task, task.stopReason(), policy.delayMs(task.attempt()))
        : handBack(task);
  }

  private static Completion handBack(RunningTask task) {
    log.warn(
        "Task {}/{} was told to stop ({}); handing it back unfinished, attempt {} not spent",
        task.jobId(),
        task.seq(),
        task.stopReason(),
        task.attempt());
    return Completion.handBack(
        task.jobId(), task.seq(), task.fenceToken(), "handed back: " + task.stopReason());
  }

  private static Completion retryOrFail(RunningTask task, String reason, long delayMs) {
    if (task.attempt() >= task.maxAttempts()) {
      return failed(task, reason);
    }
    log.warn(
        "Task {}/{} failed on attempt {} of {}; retrying in {} ms: {}",
        task.jobId(),
        task.seq(),
        task.attempt(),
        task.maxAttempts(),
        delayMs,
        reason);
    return new Completion(
        task.jobId(), task.seq(), task.fenceToken(), TaskStatus.RETRY_WAIT, null, reason, delayMs);
  }

  private static Completion failed(RunningTask task, String reason) {
    log.warn(
        "Task {}/{} failed for good on attempt {} of {}: {}",
        task.jobId(),
        task.seq(),
        task.attempt(),
        task.maxAttempts(),
        reason);
    return new Completion(
        task.jobId(), task.seq(), task.fenceToken(), TaskStatus.FAILED, null, reason, 0);
  }
}
