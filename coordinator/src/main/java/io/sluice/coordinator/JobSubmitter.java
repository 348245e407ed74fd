package io.sluice.coordinator;

import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.NewJob;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.PostgresTenantQuota;
import java.util.Optional;
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

  /** What a submission led to. */
  record Outcome(Job job, boolean created) {}

  private final Database db;
  private final PostgresJobStore jobs;
  private final PostgresTaskStore tasks;
  private final JobTypeRegistry types;
  private final Dispatcher dispatcher;
  private final AdmissionControl admission;
  private final PostgresTenantQuota quotas = new PostgresTenantQuota();

  JobSubmitter(
      Database db,
      PostgresJobStore jobs,
      PostgresTaskStore tasks,
      JobTypeRegistry types,
      Dispatcher dispatcher,
      AdmissionControl admission) {
    this.db = db;
    this.jobs = jobs;
    this.tasks = tasks;
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
    NewJob job =
        new NewJob(
            UUID.randomUUID(),
            tenant,
            request.type(),
            request.queue(),
            request.payload(),
            request.idempotencyKey(),
            RequestHash.of(request),
            request.priority(),
            request.maxAttempts(),
            request.onTaskFailure(),
            request.labels(),
            request.runAt());
    try (AdmissionControl.Ticket ticket = admission.enter(job.queue())) {
      return store(tenant, quota, type, payload, job, ticket);
    }
  }

  private Outcome store(
      String tenant,
      Integer quota,
      JobType type,
      Payload payload,
      NewJob job,
      AdmissionControl.Ticket ticket) {
    Optional<Job> created =
        db.inTransaction(
            c -> {
              Optional<Job> stored = store(c, type, payload, job);
              if (stored.isPresent()) {
                takeQuota(c, stored.get(), quota);
              }
              return stored;
            });
    if (created.isPresent()) {
      log.info(
          "Job {} ({}) accepted with {} tasks on queue {}",
          job.id(),
          job.type(),
          created.get().taskCount(),
          job.queue());
      if (job.runAt() == null) {
        dispatcher.dispatchAsync(created.get(), ticket.handOffDispatch());
      }
      return new Outcome(created.get(), true);
    }
    return existing(tenant, job);
  }

  private Optional<Job> store(java.sql.Connection c, JobType type, Payload payload, NewJob job)
      throws java.sql.SQLException {
    if (!jobs.insert(c, job)) {
      return Optional.empty();
    }
    db.allowBulk(c); // a million-row COPY outlasts the statement timeout
    int count;
    try {
      count = tasks.insertTasks(c, job.id(), type.splitter(), payload);
    } catch (InvalidPayloadException e) {
      throw new Refusal.InvalidSubmission(e.getMessage(), "payload." + e.field());
    } catch (java.sql.SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new Refusal.InvalidSubmission(
          "splitting the payload failed: " + e.getMessage(), "payload");
    }
    jobs.setTaskCount(c, job.id(), count);
    jobs.appendEvent(c, job.id(), 1, "STATUS", null, "QUEUED", null);
    return jobs.find(c, job.id());
  }

  /** Last in the transaction, so the tenant's usage row is locked only until the commit. */
  private void takeQuota(java.sql.Connection c, Job job, Integer quota)
      throws java.sql.SQLException {
    if (!quotas.tryTake(c, job.tenant(), quota)) {
      throw new Refusal.QuotaExceeded(
              "tenant "
                  + job.tenant()
                  + " has "
                  + quota
                  + " active jobs, its quota; submit again when one has finished")
          .with("quota", quota);
    }
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
