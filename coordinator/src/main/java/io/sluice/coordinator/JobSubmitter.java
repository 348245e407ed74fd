package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.NewJob;
import io.sluice.store.NewStage;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobSubmission;
import io.sluice.store.PostgresJobSubmission.Created;
import io.sluice.store.PostgresJobSubmission.KeyTaken;
import io.sluice.store.PostgresJobSubmission.OverQuota;
import io.sluice.store.PostgresJobSubmission.SplitFailedException;
import io.sluice.store.PostgresJobSubmission.Stored;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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

  /** What a submission led to. */
  record Outcome(Job job, boolean created) {}

  private final Database db;
  private final PostgresJobStore jobs;
  private final JobTypeRegistry types;
  private final Dispatcher dispatcher;
  private final AdmissionControl admission;
  private final PostgresJobSubmission submission = new PostgresJobSubmission();

  JobSubmitter(
      Database db,
      PostgresJobStore jobs,
      JobTypeRegistry types,
      Dispatcher dispatcher,
      AdmissionControl admission) {
    this.db = db;
    this.jobs = jobs;
    this.types = types;
    this.dispatcher = dispatcher;
    this.admission = admission;
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
    NewJob job = newJob(tenant, request, request.type(), request.payload(), List.of());
    try (AdmissionControl.Ticket ticket = admission.enter(job.queue())) {
      return store(tenant, quota, type, payload, job, ticket);
    }
  }

  /**
   * A pipeline: every stage's type must be known and accept its payload (400 naming the stage),
   * then the pipeline, its stages and the tasks of the stages that depend on none are stored in one
   * transaction and those stages dispatched.
   */
  private Outcome submitPipeline(String tenant, Integer quota, SubmitRequest request) {
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
              s.name(), s.type(), s.payload(), s.dependsOn(), s.queue(), s.onTaskFailure()));
    }
    NewJob job = newJob(tenant, request, PIPELINE_TYPE, Json.object(), stages);
    try (AdmissionControl.Ticket ticket = admission.enter(job.queue())) {
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
    }
  }

  private Outcome store(
      String tenant,
      Integer quota,
      JobType type,
      Payload payload,
      NewJob job,
      AdmissionControl.Ticket ticket) {
    Stored stored;
    try {
      stored = submission.store(db, job, type.splitter(), payload, quota);
    } catch (InvalidPayloadException e) {
      throw new Refusal.InvalidSubmission(e.getMessage(), "payload." + e.field());
    } catch (SplitFailedException e) {
      throw new Refusal.InvalidSubmission(
          "splitting the payload failed: " + e.getCause().getMessage(), "payload");
    }
    return stored(tenant, job, stored, ticket);
  }

  /** The job to store: a one-stage job of {@code type}, or a pipeline of {@code stages}. */
  private static NewJob newJob(
      String tenant, SubmitRequest request, String type, JsonNode payload, List<NewStage> stages) {
    return new NewJob(
        UUID.randomUUID(),
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
        stages);
  }

  private Outcome stored(String tenant, NewJob job, Stored stored, AdmissionControl.Ticket ticket) {
    return switch (stored) {
      case Created created -> {
        log.info(
            "Job {} ({}) accepted with {} tasks on queue {}",
            job.id(),
            job.type(),
            created.job().taskCount(),
            job.queue());
        if (job.runAt() == null) {
          dispatcher.dispatchAsync(created.job(), ticket.handOffDispatch());
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
