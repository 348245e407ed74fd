package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.ConcurrencyKey;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobIds;
import io.sluice.store.NewJob;
import io.sluice.store.NewStage;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobSubmission;
import io.sluice.store.PostgresJobSubmission.Created;
import io.sluice.store.PostgresJobSubmission.KeyTaken;
import io.sluice.store.PostgresJobSubmission.OverQuota;
import io.sluice.store.PostgresJobSubmission.QuotaExceededException;
import io.sluice.store.PostgresJobSubmission.SplitFailedException;
import io.sluice.store.PostgresJobSubmission.Stored;
import io.sluice.store.PreparedJob;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores a submission: the job row and all of its tasks in one transaction, so a job never exists
 * half-split. The idempotency key is unique in the database, so concurrent duplicates cannot both
 * insert; the loser reads the winner's job.
 */
final class JobSubmitter {
  private static final Logger log = LoggerFactory.getLogger(JobSubmitter.class);

  /** The {@code type} a pipeline's own row shows; its stages have the types that run. */
  static final String PIPELINE_TYPE = "pipeline";

  /** A job of at most this many tasks is split in memory and stored in a group commit. */
  static final int GROUPED_TASKS = 100;

  /** Tasks a batch's one-stage jobs may have in all: they are split in memory first. */
  static final int BATCH_TASKS = 100_000;

  /** What a submission led to. */
  record Outcome(Job job, boolean created) {}

  private final Database db;
  private final PostgresJobStore jobs;
  private final JobTypeRegistry types;
  private final Dispatcher dispatcher;
  private final AdmissionControl admission;
  private final PostgresJobSubmission submission = new PostgresJobSubmission();
  private final GroupCommit groups;
  private final Semaphore streamed;
  private final JobTraces traces;
  private final int keyMaxConcurrency;

  /**
   * @param groups where small jobs are stored, many per transaction
   * @param streamedAtOnce large jobs storing their tasks at once, each on a connection of its own
   */
  JobSubmitter(
      Database db,
      PostgresJobStore jobs,
      JobTypeRegistry types,
      Dispatcher dispatcher,
      AdmissionControl admission,
      GroupCommit groups,
      int streamedAtOnce) {
    this(db, jobs, types, dispatcher, admission, groups, streamedAtOnce, JobTraces.off(), 1);
  }

  /**
   * @param traces where each job's spans go and its trace context is stored
   * @param keyMaxConcurrency the limit of a concurrency key a job gives without one
   */
  JobSubmitter(
      Database db,
      PostgresJobStore jobs,
      JobTypeRegistry types,
      Dispatcher dispatcher,
      AdmissionControl admission,
      GroupCommit groups,
      int streamedAtOnce,
      JobTraces traces,
      int keyMaxConcurrency) {
    this.traces = traces;
    this.keyMaxConcurrency = keyMaxConcurrency;
    this.db = db;
    this.jobs = jobs;
    this.types = types;
    this.dispatcher = dispatcher;
    this.admission = admission;
    this.groups = groups;
    this.streamed = new Semaphore(streamedAtOnce, true);
  }

  Outcome submit(String tenant, SubmitRequest request) {
    return submit(tenant, null, request);
  }

  /**
   * Stores the job unless the tenant already has {@code quota} active jobs (null: no quota) or the
   * coordinator is too far behind ({@link AdmissionControl}: 503, nothing stored); a delayed job
   * ({@code runAt} ahead) is left to the sweeper, which dispatches it once due.
   */
  Outcome submit(String tenant, Integer quota, SubmitRequest request) {
    if (request.isPipeline()) {
      return submitPipeline(tenant, quota, request);
    }
    OneStage one = oneStage(tenant, request);
    JobType type = one.type();
    Payload payload = one.payload();
    NewJob job = one.job();
    Span span = traces.startJob(job);
    try (Scope scope = span.makeCurrent();
        AdmissionControl.Ticket ticket = admission.enter(job.queue())) {
      Optional<PreparedJob> small =
          traces.split(job, () -> splitSmall(job, type, payload, quota, GROUPED_TASKS, "payload"));
      if (small.isPresent()) {
        return stored(tenant, job, groups.store(small.get()), ticket);
      }
      // A large job is split as its tasks stream into PostgreSQL: its job span covers it.
      return store(tenant, quota, type, payload, job, ticket);
    } finally {
      span.end();
    }
  }

  /**
   * A pipeline: every stage's type must be known and accept its payload (400 naming the stage),
   * then the pipeline, its stages and the tasks of the stages that depend on none are stored in one
   * transaction and those stages dispatched.
   */
  private Outcome submitPipeline(String tenant, Integer quota, SubmitRequest request) {
    NewJob job = pipelineJob(tenant, request);
    Span span = traces.startJob(job);
    try (Scope scope = span.makeCurrent();
        AdmissionControl.Ticket ticket = admission.enter(job.queue())) {
      Stored stored;
      try {
        stored =
            submission.storePipeline(
                db, job, name -> types.find(name).map(JobType::splitter), quota);
      } catch (InvalidPayloadException e) {
        throw new Refusal.InvalidSubmission(e.getMessage(), "stages");
      } catch (SplitFailedException e) {
        throw new Refusal.InvalidSubmission(
            "splitting a stage failed: " + e.getCause().getMessage(), "stages");
      }
      return stored(tenant, job, stored, ticket);
    } finally {
      span.end();
    }
  }

  /** A one-stage job to store, with its type and payload. */
  private record OneStage(JobType type, Payload payload, NewJob job) {}

  /** A one-stage job to store, once its type is known and accepts its payload (else a 400). */
  private OneStage oneStage(String tenant, SubmitRequest request) {
    JobType type =
        types
            .find(request.type())
            .orElseThrow(
                () ->
                    new Refusal.InvalidSubmission(
                            "unknown job type '" + request.type() + "'", "type")
                        .with("known", String.join(",", types.names())));
    Payload payload = new Payload(request.payload());
    validate(type, payload);
    return new OneStage(
        type, payload, newJob(tenant, request, request.type(), request.payload(), List.of()));
  }

  /** A pipeline to store, once every stage's type is known and accepts its payload. */
  private NewJob pipelineJob(String tenant, SubmitRequest request) {
    List<NewStage> stages = new ArrayList<>();
    for (int i = 0; i < request.stages().size(); i++) {
      SubmitRequest.StageRequest s = request.stages().get(i);
      String at = "stages[" + i + "]";
      JobType type =
          types
              .find(s.type())
              .orElseThrow(
                  () ->
                      new Refusal.InvalidSubmission(
                              "stage '" + s.name() + "': unknown job type '" + s.type() + "'",
                              at + ".type")
                          .with("stage", s.name())
                          .with("known", String.join(",", types.names())));
      try {
        type.validate(new Payload(s.payload()));
      } catch (InvalidPayloadException e) {
        throw new Refusal.InvalidSubmission(
                "stage '" + s.name() + "': " + e.getMessage(), at + ".payload." + e.field())
            .with("stage", s.name());
      }
      stages.add(
          new NewStage(
              s.name(),
              s.type(),
              s.payload(),
              s.dependsOn(),
              s.queue(),
              s.onTaskFailure(),
              s.taskTimeout() == null ? request.limits().taskTimeout() : s.taskTimeout(),
              s.callback()));
    }
    return newJob(tenant, request, PIPELINE_TYPE, Json.object(), stages);
  }

  /** A batch's job ready to store: a one-stage job split in memory, or a pipeline (unsplit). */
  record BatchItem(NewJob job, PreparedJob prepared) {}

  /**
   * A job a schedule submits, validated and split in memory as a batch's item is (a one-stage job
   * has at most {@value #BATCH_TASKS} tasks); throws the {@link Refusal} a submit would get.
   */
  BatchItem prepare(String tenant, SubmitRequest request) {
    return batchItem(tenant, null, request, BATCH_TASKS);
  }

  /**
   * Stores prepared jobs of {@code tenant} in the caller's transaction, outside any quota, in
   * order; an item whose idempotency key names a job already answers that job (not created).
   */
  List<Outcome> storeIn(Connection c, String tenant, List<BatchItem> items) throws SQLException {
    return storeBatch(c, tenant, null, items);
  }

  /** Dispatches a job stored by {@link #storeIn} once its transaction committed. */
  void dispatch(Job job) {
    if (job.runAt() == null) {
      dispatcher.dispatchAsync(job, () -> {});
    }
  }

  /**
   * Stores a batch all or nothing: every item is parsed (its supplier throws the parser's {@link
   * ApiException}) and validated first, and if any is wrong the answer lists each by index and
   * nothing is stored; then all of them are stored in one transaction (one-stage jobs with {@link
   * PostgresJobSubmission#storeGroup}, pipelines beside them), answered in request order. An item
   * whose idempotency key names a job already answers that job; one naming a different request, or
   * a tenant quota without room for them all, refuses the whole batch.
   */
  List<Outcome> submitBatch(String tenant, Integer quota, List<Supplier<SubmitRequest>> requests) {
    List<BatchItem> items = new ArrayList<>(requests.size());
    List<ObjectNode> errors = new ArrayList<>();
    int budget = BATCH_TASKS;
    for (int i = 0; i < requests.size(); i++) {
      try {
        BatchItem item = batchItem(tenant, quota, requests.get(i).get(), budget);
        items.add(item);
        budget -= item.prepared() == null ? 0 : item.prepared().inputs().size();
      } catch (ApiException e) {
        errors.add(itemError(i, e));
      } catch (Refusal r) {
        errors.add(itemError(i, ApiErrors.toApi(r)));
      }
    }
    if (!errors.isEmpty()) {
      throw new Refusal.InvalidBatch(
          errors.size()
              + " of the batch's "
              + requests.size()
              + " jobs are invalid (listed in errors); nothing was stored",
          errors);
    }
    try (AdmissionControl.Ticket ticket =
        admission.enter(items.stream().map(i -> i.job().queue()).toList())) {
      List<Outcome> outcomes;
      try {
        outcomes =
            db.inTransaction(
                c -> {
                  db.allowBulk(c);
                  return storeBatch(c, tenant, quota, items);
                });
      } catch (QuotaExceededException e) {
        throw new Refusal.QuotaExceeded(
                e.getMessage() + "; nothing was stored, submit again when jobs have finished")
            .with("quota", e.quota());
      }
      int created = 0;
      for (Outcome o : outcomes) {
        if (o.created()) {
          created++;
          if (o.job().runAt() == null) {
            dispatcher.dispatchAsync(o.job(), ticket.handOffDispatch());
          }
        }
      }
      log.info("Batch of {} job(s) accepted, {} new", outcomes.size(), created);
      return outcomes;
    }
  }

  private BatchItem batchItem(String tenant, Integer quota, SubmitRequest request, int budget) {
    if (request.isPipeline()) {
      return new BatchItem(pipelineJob(tenant, request), null);
    }
    OneStage one = oneStage(tenant, request);
    JobType type = one.type();
    Payload payload = one.payload();
    NewJob job = one.job();
    PreparedJob prepared =
        splitSmall(job, type, payload, quota, budget, "payload")
            .orElseThrow(
                () ->
                    new Refusal.InvalidSubmission(
                            "the one-stage jobs of a batch may have "
                                + BATCH_TASKS
                                + " tasks in all, and this one passes that; submit it on its own",
                            "payload")
                        .with("limit", BATCH_TASKS));
    return new BatchItem(job, prepared);
  }

  private List<Outcome> storeBatch(
      Connection c, String tenant, Integer quota, List<BatchItem> items) throws SQLException {
    List<PreparedJob> oneStage = new ArrayList<>();
    items.stream().filter(i -> i.prepared() != null).forEach(i -> oneStage.add(i.prepared()));
    List<Stored> grouped = submission.storeGroup(c, oneStage, true);
    List<Outcome> outcomes = new ArrayList<>(items.size());
    int g = 0;
    for (int i = 0; i < items.size(); i++) {
      BatchItem item = items.get(i);
      Stored stored;
      if (item.prepared() != null) {
        stored = grouped.get(g++);
      } else {
        try {
          stored =
              submission.storePipelineInBatch(
                  c, item.job(), name -> types.find(name).map(JobType::splitter), quota);
        } catch (InvalidPayloadException | SplitFailedException e) {
          String why =
              e instanceof SplitFailedException ? e.getCause().getMessage() : e.getMessage();
          throw new Refusal.InvalidBatch(
              "job " + i + " of the batch could not be split; nothing was stored",
              List.of(
                  itemError(
                      i,
                      ApiErrors.toApi(
                          new Refusal.InvalidSubmission(
                              "splitting a stage failed: " + why, "stages")))));
        }
      }
      outcomes.add(
          switch (stored) {
            case Created created -> new Outcome(created.job(), true);
            case KeyTaken taken -> new Outcome(existingIn(c, tenant, item.job(), i), false);
            case OverQuota over -> throw new IllegalStateException("a batch takes its quota whole");
          });
    }
    traces.persistAll(c, outcomes.stream().filter(Outcome::created).map(Outcome::job).toList());
    return outcomes;
  }

  /** The job a batch item's idempotency key names, read in the batch's transaction. */
  private Job existingIn(Connection c, String tenant, NewJob attempted, int index)
      throws SQLException {
    Job existing =
        jobs.findByIdempotencyKey(c, tenant, attempted.idempotencyKey())
            .orElseThrow(
                () ->
                    new Refusal.IdempotencyConflict(
                            "idempotencyKey of job "
                                + index
                                + " of the batch is in use by a job being created; retry",
                            null)
                        .with("index", index));
    if (!existing.requestHash().equals(attempted.requestHash())) {
      throw new Refusal.IdempotencyConflict(
              "idempotencyKey of job "
                  + index
                  + " of the batch was used before with a different request; nothing was stored",
              existing.id())
          .with("index", index);
    }
    return existing;
  }

  private static ObjectNode itemError(int index, ApiException e) {
    ObjectNode error = Json.object().put("index", index);
    error.setAll(e.body());
    error.remove("retryAfterSeconds");
    return error;
  }

  /**
   * The job split in memory if it has at most {@code limit} tasks; a splitter's refusal is a 400
   * naming {@code field} (the payload, or a batch item's).
   */
  private static Optional<PreparedJob> splitSmall(
      NewJob job, JobType type, Payload payload, Integer quota, int limit, String field) {
    try {
      return PreparedJob.split(job, type.splitter(), payload, quota, limit);
    } catch (InvalidPayloadException e) {
      throw new Refusal.InvalidSubmission(e.getMessage(), field + "." + e.field());
    } catch (SplitFailedException e) {
      throw new Refusal.InvalidSubmission(
          "splitting the payload failed: " + e.getCause().getMessage(), field);
    }
  }

  /** A large job: its tasks streamed with COPY in a transaction of its own. */
  private Outcome store(
      String tenant,
      Integer quota,
      JobType type,
      Payload payload,
      NewJob job,
      AdmissionControl.Ticket ticket) {
    Stored stored;
    try {
      streamed.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting to store a job", e);
    }
    try {
      stored = submission.store(db, job, type.splitter(), payload, quota);
    } catch (InvalidPayloadException e) {
      throw new Refusal.InvalidSubmission(e.getMessage(), "payload." + e.field());
    } catch (SplitFailedException e) {
      throw new Refusal.InvalidSubmission(
          "splitting the payload failed: " + e.getCause().getMessage(), "payload");
    } finally {
      streamed.release();
    }
    return stored(tenant, job, stored, ticket);
  }

  /** The job to store: a one-stage job of {@code type}, or a pipeline of {@code stages}. */
  private NewJob newJob(
      String tenant, SubmitRequest request, String type, JsonNode payload, List<NewStage> stages) {
    return new NewJob(
        JobIds.next(),
        tenant,
        type,
        request.queue(),
        payload,
        request.idempotencyKey(),
        RequestHash.of(request),
        request.priority(),
        request.maxAttempts(),
        request.onTaskFailure(),
        request.labels(),
        request.runAt(),
        stages,
        request.limits(),
        request.callback(),
        request.concurrencyKey() == null
            ? null
            : new ConcurrencyKey(
                request.concurrencyKey(),
                request.concurrencyLimit() == null
                    ? keyMaxConcurrency
                    : request.concurrencyLimit()));
  }

  private Outcome stored(String tenant, NewJob job, Stored stored, AdmissionControl.Ticket ticket) {
    return switch (stored) {
      case Created created -> {
        log.debug(
            "Job {} ({}) accepted with {} tasks on queue {}",
            job.id(),
            job.type(),
            created.job().taskCount(),
            job.queue());
        traces.persist(db, created.job());
        if (job.runAt() == null) {
          dispatcher.dispatchAsync(
              created.job(), traces.dispatch(created.job(), ticket.handOffDispatch()));
        }
        yield new Outcome(created.job(), true);
      }
      case KeyTaken taken -> existing(tenant, job);
      case OverQuota over ->
          throw new Refusal.QuotaExceeded(
                  "tenant "
                      + job.tenant()
                      + " has "
                      + over.quota()
                      + " active jobs, its quota; submit again when one has finished")
              .with("quota", over.quota());
    };
  }

  private Outcome existing(String tenant, NewJob attempted) {
    Job existing =
        db.query(c -> jobs.findByIdempotencyKey(c, tenant, attempted.idempotencyKey()))
            .orElseThrow(
                () ->
                    new Refusal.IdempotencyConflict(
                        "idempotency key is in use by a job being created; retry", null));
    if (!existing.requestHash().equals(attempted.requestHash())) {
      throw new Refusal.IdempotencyConflict(
          "idempotencyKey was used before with a different request; the existing job is named",
          existing.id());
    }
    return new Outcome(existing, false);
  }

  private static void validate(JobType type, Payload payload) {
    if (payload.json() == null || !payload.json().isObject()) {
      throw new Refusal.InvalidSubmission("payload must be a JSON object", "payload");
    }
    try {
      type.validate(payload);
    } catch (InvalidPayloadException e) {
      throw new Refusal.InvalidSubmission(e.getMessage(), "payload." + e.field());
    }
  }
}
