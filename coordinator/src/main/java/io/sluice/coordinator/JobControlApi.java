package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobPatch;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobControl;
import io.sluice.store.PostgresJobControl.Applied;
import io.sluice.store.PostgresJobControl.NotFound;
import io.sluice.store.PostgresJobControl.Outcome;
import io.sluice.store.PostgresJobControl.Refused;
import io.sluice.store.PostgresJobStore;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job-changing calls: {@code PATCH /api/v1/jobs/{id}} (optimistic, {@code If-Match} required),
 * {@code POST /api/v1/jobs/{id}/cancel} and {@code GET /api/v1/jobs/{id}/events}. Each write is one
 * compare-and-set in PostgreSQL; a refusal says why and names the current version when a retry with
 * a fresh read can succeed.
 */
final class JobControlApi {
  private static final Logger log = LoggerFactory.getLogger(JobControlApi.class);
  private static final List<String> PATCHABLE = List.of("priority", "maxAttempts", "labels");

  /** What the calls need from the coordinator. */
  record Parts(
      CoordinatorConfig config,
      Database db,
      QueueProtocol redis,
      MeterRegistry metrics,
      Function<Context, Caller> authenticate) {}

  private final Parts parts;
  private final PostgresJobControl control = new PostgresJobControl();
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final LiveProgress progress;
  private final Counter conflicts;
  private final Counter cancelled;

  private JobControlApi(Parts parts) {
    this.parts = parts;
    this.progress = new LiveProgress(parts.db());
    this.conflicts = parts.metrics().counter("sluice_api_version_conflicts_total");
    this.cancelled = parts.metrics().counter("sluice_jobs_cancelled_total");
  }

  static void register(Javalin app, Parts parts) {
    JobControlApi api = new JobControlApi(parts);
    app.patch("/api/v1/jobs/{id}", api::patch);
    app.post("/api/v1/jobs/{id}/cancel", api::cancel);
    JobEventStream events = new JobEventStream(parts.db(), api.progress);
    app.get(
        "/api/v1/jobs/{id}/events",
        ctx -> events.stream(ctx, parts.authenticate().apply(ctx).scope()));
    log.info("Job API limits: {}", parts.config().limits());
  }

  private void patch(Context ctx) {
    String tenant = parts.authenticate().apply(ctx).tenant();
    long expected = IfMatch.required(ctx);
    UUID id = RequestParams.jobId(ctx);
    JobPatch patch = parsePatch(JsonBodies.read(ctx, parts.config().maxBodyBytes()));
    Outcome outcome = parts.db().inTransaction(c -> control.patch(c, tenant, id, expected, patch));
    switch (outcome) {
      case Applied applied -> {
        log.info("Job {} changed to version {} by tenant {}", id, applied.version(), tenant);
        respond(ctx, 200, find(id), null);
      }
      case NotFound n -> throw notFound(id);
      case Refused refused -> throw refusal(refused, expected, "changed");
    }
  }

  private void cancel(Context ctx) {
    String tenant = parts.authenticate().apply(ctx).tenant();
    UUID id = RequestParams.jobId(ctx);
    Long expected = IfMatch.optional(ctx);
    Outcome outcome;
    try {
      outcome =
          parts
              .db()
              .inTransaction(
                  c -> {
                    Outcome o = control.cancel(c, tenant, id, expected);
                    if (!(o instanceof Applied)) {
                      throw new Unchanged(o);
                    }
                    return o;
                  });
    } catch (Unchanged u) {
      outcome = u.outcome;
    }
    switch (outcome) {
      case Applied applied -> {
        cancelled.increment();
        forgetRedisKeys(parts.db(), parts.redis(), id);
        log.info(
            "Job {} CANCELLED by tenant {}; {} unfinished task(s) cancelled",
            id,
            tenant,
            applied.tasksCancelled());
        respond(ctx, 200, find(id), applied.tasksCancelled());
      }
      case NotFound n -> throw notFound(id);
      case Refused refused -> {
        if (refused.current().status() == JobStatus.CANCELLED && expected == null) {
          respond(ctx, 200, find(id), 0);
          return;
        }
        throw refusal(refused, expected, "cancelled");
      }
    }
  }

  /** Rolls the cancel's transaction back while carrying its outcome out. */
  private static final class Unchanged extends RuntimeException {
    private final transient Outcome outcome;

    Unchanged(Outcome outcome) {
      super(null, null, false, false);
      this.outcome = outcome;
    }
  }

  private Refusal refusal(Refused refused, Long expected, String verb) {
    JobStatus status = refused.current().status();
    if (status != JobStatus.QUEUED && status != JobStatus.RUNNING) {
      String why =
          status == JobStatus.COLLECTING
              ? "its tasks have all finished and it is being collected"
              : "it has finished";
      return new Refusal.JobConflict(
              "job is " + status + ": only a QUEUED or RUNNING job can be " + verb + "; " + why)
          .with("status", status.name());
    }
    conflicts.increment();
    return new Refusal.JobConflict(
            "version "
                + expected
                + " is stale: the job is at version "
                + refused.current().version()
                + "; read it again and retry")
        .with("currentVersion", refused.current().version());
  }

  /** Deletes a cancelled job's Redis keys (and its stages'); a failure only leaves them longer. */
  static void forgetRedisKeys(Database db, QueueProtocol redis, UUID id) {
    try {
      List<UUID> keys = new ArrayList<>(List.of(id));
      db.query(c -> new PostgresJobStore().stagesOf(c, id)).forEach(s -> keys.add(s.id()));
      redis.deleteJobKeys(keys);
    } catch (RuntimeException e) {
      log.warn(
          "Deleting the Redis keys of cancelled job {} failed; they stay until a rebuild: {}",
          id,
          e.toString());
    }
  }

  private void respond(Context ctx, int status, Job job, Integer tasksCancelled) {
    ObjectNode body = progress.decorate(JobJson.job(job), job);
    if (tasksCancelled != null) {
      body.put("tasksCancelled", tasksCancelled);
    }
    ctx.header("ETag", "\"" + job.version() + "\"");
    ctx.status(status).json(body);
  }

  private Job find(UUID id) {
    return parts.db().query(c -> jobs.find(c, id)).orElseThrow(() -> notFound(id));
  }

  private static Refusal notFound(UUID id) {
    return new Refusal.JobNotFound("no job with id " + id + " for this token", id);
  }

  private static JobPatch parsePatch(JsonNode root) {
    root.fieldNames()
        .forEachRemaining(
            name -> {
              if (!PATCHABLE.contains(name)) {
                throw new ApiException(
                        400,
                        "unknown or unchangeable field '" + name + "'; changeable: " + PATCHABLE)
                    .with("field", name);
              }
            });
    JobPatch patch =
        new JobPatch(
            SubmitRequestParser.optionalInt(root, "priority", -1000, 1000),
            SubmitRequestParser.optionalInt(root, "maxAttempts", 1, 100),
            Labels.parse(root.get("labels")));
    if (patch.isEmpty()) {
      throw new ApiException(400, "the patch changes nothing; name at least one of " + PATCHABLE);
    }
    return patch;
  }
}
