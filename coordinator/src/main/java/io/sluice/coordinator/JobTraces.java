package io.sluice.coordinator;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.NewJob;
import io.sluice.store.PostgresTraceParents;
import io.sluice.tracing.Tracing;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The coordinator's spans of a job (issue 14): {@code sluice.job} for its submission (a child of
 * the request's {@code traceparent}, if any), {@code sluice.split}, {@code sluice.dispatch}, one
 * {@code sluice.stage} per pipeline stage, and {@code sluice.collect}. The job's span context is
 * written to its row before it is dispatched, so the task spans on the workers and the collector's
 * span find it in PostgreSQL whatever happened to Redis. When tracing is off every method is a
 * no-op that touches neither the SDK nor the database.
 */
final class JobTraces {
  private final Tracing tracing;
  private final Tracer tracer;
  private final PostgresTraceParents store = new PostgresTraceParents();

  JobTraces(Tracing tracing) {
    this.tracing = tracing;
    this.tracer = tracing.tracer();
  }

  static JobTraces off() {
    return new JobTraces(Tracing.off());
  }

  boolean enabled() {
    return tracing.enabled();
  }

  /** Starts the job's span, a child of the current context (the request's traceparent). */
  Span startJob(NewJob job) {
    if (!enabled()) {
      return Span.getInvalid();
    }
    return tracer
        .spanBuilder("sluice.job")
        .setSpanKind(SpanKind.SERVER)
        .setAttribute(Tracing.JOB_ID, job.id().toString())
        .setAttribute(Tracing.JOB_TYPE, job.type())
        .setAttribute(Tracing.QUEUE, job.queue())
        .setAttribute(Tracing.TENANT, job.tenant())
        .startSpan();
  }

  /** Runs {@code split} in a {@code sluice.split} span under the current (the job's) span. */
  <T> T split(NewJob job, Supplier<T> split) {
    if (!enabled()) {
      return split.get();
    }
    Span span =
        tracer
            .spanBuilder("sluice.split")
            .setAttribute(Tracing.JOB_ID, job.id().toString())
            .setAttribute(Tracing.JOB_TYPE, job.type())
            .startSpan();
    try (Scope scope = span.makeCurrent()) {
      return split.get();
    } catch (RuntimeException e) {
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * Writes the current span's context (the job's) to the created job's row, and for a pipeline one
   * {@code sluice.stage} span's to each stage row, in their own transaction; called before the job
   * is dispatched. A failure is the trace's loss, never the job's: it is counted by the span's
   * status only.
   */
  void persist(Database db, Job job) {
    if (!enabled()) {
      return;
    }
    Span span = Span.current();
    span.setAttribute(Tracing.TASK_COUNT, (long) job.taskCount());
    try {
      db.inTransaction(
          c -> {
            persistIn(c, job, span.getSpanContext());
            return null;
          });
    } catch (RuntimeException e) {
      span.setStatus(StatusCode.ERROR, "storing the trace context failed: " + e.getMessage());
    }
  }

  /**
   * A batch's or a schedule fire's created jobs, in the caller's transaction: a {@code sluice.job}
   * span for each (a child of the current context), whose context goes to its row.
   */
  void persistAll(Connection c, List<Job> created) throws SQLException {
    if (!enabled()) {
      return;
    }
    for (Job job : created) {
      Span span =
          tracer
              .spanBuilder("sluice.job")
              .setSpanKind(SpanKind.SERVER)
              .setAttribute(Tracing.JOB_ID, job.id().toString())
              .setAttribute(Tracing.JOB_TYPE, job.type())
              .setAttribute(Tracing.QUEUE, job.queue())
              .setAttribute(Tracing.TENANT, job.tenant())
              .setAttribute(Tracing.TASK_COUNT, (long) job.taskCount())
              .startSpan();
      try {
        persistIn(c, job, span.getSpanContext());
      } finally {
        span.end();
      }
    }
  }

  private void persistIn(Connection c, Job job, SpanContext jobSpan) throws SQLException {
    if (!jobSpan.isValid()) {
      return;
    }
    Map<UUID, String> parents = new LinkedHashMap<>();
    parents.put(job.id(), Tracing.traceParent(jobSpan));
    if (job.isPipeline()) {
      Context under = Context.root().with(Span.wrap(jobSpan));
      store
          .stages(c, job.id())
          .forEach(
              (id, name) -> {
                Span stage =
                    tracer
                        .spanBuilder("sluice.stage")
                        .setParent(under)
                        .setAttribute(Tracing.JOB_ID, id.toString())
                        .setAttribute(Tracing.PIPELINE_ID, job.id().toString())
                        .setAttribute(Tracing.STAGE, name)
                        .startSpan();
                parents.put(id, Tracing.traceParent(stage.getSpanContext()));
                stage.end();
              });
    }
    store.set(c, parents);
  }

  /**
   * A {@code sluice.dispatch} span under the current (the job's) span, from now until {@code done}
   * runs (the dispatcher ran it once the job's tasks were appended to its queue's stream, or gave
   * up and left it to the sweeper).
   */
  Runnable dispatch(Job job, Runnable done) {
    if (!enabled()) {
      return done;
    }
    Span span =
        tracer
            .spanBuilder("sluice.dispatch")
            .setSpanKind(SpanKind.PRODUCER)
            .setAttribute(Tracing.JOB_ID, job.id().toString())
            .setAttribute(Tracing.QUEUE, job.queue())
            .setAttribute(Tracing.TASK_COUNT, (long) job.taskCount())
            .startSpan();
    return () -> {
      try {
        done.run();
      } finally {
        span.end();
      }
    };
  }

  /**
   * A {@code sluice.collect} span for one attempt of a job's (a stage's) collector, a child of the
   * span its row names; the invalid span when off or the job was not traced.
   */
  Span startCollect(Database db, UUID jobId, int attempt) {
    if (!enabled()) {
      return Span.getInvalid();
    }
    String parent;
    try {
      parent = db.query(c -> store.of(c, jobId)).orElse(null);
    } catch (RuntimeException e) {
      parent = null;
    }
    if (parent == null) {
      return Span.getInvalid();
    }
    return tracer
        .spanBuilder("sluice.collect")
        .setParent(Tracing.parent(parent))
        .setAttribute(Tracing.JOB_ID, jobId.toString())
        .setAttribute(Tracing.TASK_ATTEMPT, (long) attempt)
        .startSpan();
  }
}
