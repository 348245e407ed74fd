package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.context.Scope;
import io.sluice.health.Health;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskStatus;
import io.sluice.store.TaskView;
import io.sluice.store.TenantScope;
import io.sluice.tracing.Tracing;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The coordinator's HTTP API (routes and error mapping); the contract is in the README section
 * "API".
 */
final class HttpApi {
  /** Jobs in one {@code POST /api/v1/jobs/batch} at most. */
  static final int MAX_BATCH = 1000;

  /** Connections the kernel may hold for the server before it accepts them. */
  static final int ACCEPT_QUEUE = 1024;

  private final CoordinatorConfig config;
  private final Database db;
  private final JobSubmitter submitter;
  private final Health health;
  private final PrometheusMeterRegistry metrics;
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final CoordinatorRedis redis;
  private final RateLimiter limiter;
  private final LiveProgress progress;
  private final QueueControls queues;

  HttpApi(
      CoordinatorConfig config,
      Database db,
      JobSubmitter submitter,
      Health health,
      PrometheusMeterRegistry metrics,
      CoordinatorRedis redis,
      QueueControls queues) {
    this.config = config;
    this.db = db;
    this.submitter = submitter;
    this.health = health;
    this.metrics = metrics;
    this.redis = redis;
    this.limiter = new RateLimiter(config.limits(), metrics, System::nanoTime);
    this.progress = new LiveProgress(db);
    this.queues = queues;
  }

  Javalin start() {
    Javalin app =
        Javalin.create(
            cfg -> {
              cfg.showJavalinBanner = false;
              cfg.http.maxRequestSize = config.maxBodyBytes();
              cfg.useVirtualThreads = true;
              // Jetty's default accept queue is the JVM's 50: a burst of new connections beyond it
              // has its SYNs dropped, and clients see connect timeouts instead of an answer (a 503
              // when overloaded). The kernel caps it at net.core.somaxconn.
              cfg.jetty.addConnector(
                  (server, http) -> {
                    ServerConnector connector =
                        new ServerConnector(server, new HttpConnectionFactory(http));
                    connector.setPort(config.httpPort());
                    connector.setAcceptQueueSize(ACCEPT_QUEUE);
                    return connector;
                  });
            });
    app.post("/api/v1/jobs", this::submit);
    app.post("/api/v1/jobs/batch", this::submitBatch);
    app.get("/api/v1/jobs", this::listJobs);
    app.get("/api/v1/jobs/{id}", this::getJob);
    app.get("/api/v1/jobs/{id}/tasks", this::listTasks);
    OpenApiDocument.register(app);
    WebhooksApi.register(app, db, this::authenticate);
    DashboardApi.register(app, config, db, metrics, this::authenticate);
    QueuesApi.register(app, new QueuesApi.Parts(db, redis, queues, this::authenticate));
    JobControlApi.register(
        app, new JobControlApi.Parts(config, db, redis, metrics, this::authenticate));
    ScheduleApi.register(app, new ScheduleApi.Parts(config, db, submitter, this::authenticate));
    app.get("/health/live", ctx -> ctx.json(Json.object().put("status", "UP")));
    app.get("/health/ready", this::ready);
    app.get(
        "/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
    ApiErrors.register(app, metrics);
    app.start();
    return app;
  }

  private void submit(Context ctx) {
    String tenant = authenticate(ctx).tenant();
    byte[] body = jsonBody(ctx);
    SubmitRequest request = SubmitRequestParser.parse(body);
    config.webhooks().admitAll(tenant, request, "");
    JobSubmitter.Outcome outcome;
    // The job's span is a child of the caller's W3C traceparent, if it sent one.
    try (Scope trace = Tracing.parent(ctx.header("traceparent")).makeCurrent()) {
      outcome = submitter.submit(tenant, config.limits().quotaOf(tenant), request);
    }
    ctx.header("ETag", "\"" + outcome.job().version() + "\"");
    ctx.header("Location", "/api/v1/jobs/" + outcome.job().id());
    ctx.status(outcome.created() ? 201 : 200).json(answer(outcome.job()));
  }

  /** {@code POST /api/v1/jobs/batch}: 1 to {@value #MAX_BATCH} jobs, all stored or none. */
  private void submitBatch(Context ctx) {
    String tenant = authenticate(ctx).tenant();
    JsonNode root = SubmitRequestParser.readObject(jsonBody(ctx));
    root.fieldNames()
        .forEachRemaining(
            name -> {
              if (!name.equals("jobs")) {
                throw new ApiException(400, "unknown field '" + name + "'; a batch has only jobs")
                    .with("field", name);
              }
            });
    JsonNode list = root.get("jobs");
    if (list == null || !list.isArray() || list.isEmpty() || list.size() > MAX_BATCH) {
      throw new ApiException(400, "jobs must be an array of 1 to " + MAX_BATCH + " submit bodies")
          .with("field", "jobs")
          .with("limit", MAX_BATCH);
    }
    List<Supplier<SubmitRequest>> requests = new ArrayList<>(list.size());
    for (JsonNode item : list) {
      requests.add(
          () -> {
            if (item.isObject()) {
              StorableJson.check(item);
            }
            SubmitRequest request = SubmitRequestParser.parse(item);
            config.webhooks().admitAll(tenant, request, "");
            return request;
          });
    }
    List<JobSubmitter.Outcome> outcomes;
    try (Scope trace = Tracing.parent(ctx.header("traceparent")).makeCurrent()) {
      outcomes = submitter.submitBatch(tenant, config.limits().quotaOf(tenant), requests);
    }
    ObjectNode answer = Json.object();
    ArrayNode items = answer.putArray("items");
    outcomes.forEach(o -> items.add(answer(o.job())));
    ctx.status(201).json(answer);
  }

  /** A submitted job as the API shows it, with its stages. */
  private ObjectNode answer(Job job) {
    ObjectNode answer = JobJson.job(job);
    answer.set("stages", JobJson.stages(job, stagesOf(job)));
    return answer;
  }

  /** The request's JSON body, within the size limit. */
  private byte[] jsonBody(Context ctx) {
    String type = ctx.contentType();
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw new ApiException(415, "Content-Type must be application/json")
          .with("got", String.valueOf(type));
    }
    long length = ctx.contentLength();
    if (length > config.maxBodyBytes()) {
      throw new ApiException(
              413, "body of " + length + " bytes exceeds the limit of " + config.maxBodyBytes())
          .with("limit", config.maxBodyBytes());
    }
    byte[] body = ctx.bodyAsBytes();
    if (body.length > config.maxBodyBytes()) {
      throw new ApiException(413, "body exceeds the limit of " + config.maxBodyBytes() + " bytes")
          .with("limit", config.maxBodyBytes());
    }
    return body;
  }

  private void getJob(Context ctx) {
    Job job = findJob(ctx, authenticate(ctx));
    ctx.header("ETag", "\"" + job.version() + "\"");
    ObjectNode body = progress.decorate(JobJson.job(job), job);
    body.set("stages", JobJson.stages(job, stagesOf(job)));
    ctx.json(body);
  }

  /** A pipeline's stages; none for a one-stage job (its only stage is the job itself). */
  private List<Job> stagesOf(Job job) {
    return job.isPipeline() ? db.query(c -> jobs.stagesOf(c, job.id())) : List.of();
  }

  private void listJobs(Context ctx) {
    TenantScope scope = authenticate(ctx).scope();
    JobStatus status = RequestParams.enumParam(ctx, "status", JobStatus.class);
    int limit = RequestParams.limit(ctx);
    RequestParams.JobsCursor cursor = RequestParams.jobsCursor(ctx);
    Instant created = cursor == null ? null : cursor.createdAt();
    UUID id = cursor == null ? null : cursor.id();
    List<Job> page = db.query(c -> jobs.page(c, scope, status, created, id, limit));
    ObjectNode body = Json.object();
    ArrayNode items = body.putArray("items");
    page.forEach(j -> items.add(JobJson.job(j)));
    if (page.size() == limit) {
      Job last = page.get(page.size() - 1);
      body.put("nextCursor", RequestParams.jobsCursor(last.createdAt(), last.id()));
    } else {
      body.putNull("nextCursor");
    }
    ctx.json(body);
  }

  private void listTasks(Context ctx) {
    TenantScope scope = authenticate(ctx).scope();
    Job job = findJob(ctx, scope);
    TaskStatus status = RequestParams.enumParam(ctx, "status", TaskStatus.class);
    int limit = RequestParams.limit(ctx);
    RequestParams.TasksCursor cursor = RequestParams.tasksCursor(ctx);
    List<Job> stages = job.isPipeline() ? db.query(c -> jobs.stagesOf(c, job.id())) : List.of(job);
    String only = ctx.queryParam("stage");
    if (only != null && stages.stream().noneMatch(s -> s.stage().equals(only))) {
      throw new ApiException(400, "the job has no stage named '" + only + "'")
          .with("field", "stage");
    }
    // Stage by stage in topological order, each in sequence order; the cursor names both.
    ObjectNode body = Json.object();
    ArrayNode items = body.putArray("items");
    String next = null;
    for (int i = cursor.stage(); i < stages.size() && items.size() < limit; i++) {
      Job stage = stages.get(i);
      if (only != null && !stage.stage().equals(only)) {
        continue;
      }
      int after = i == cursor.stage() ? cursor.afterSeq() : -1;
      int want = limit - items.size();
      List<TaskView> page = db.query(c -> tasks.page(c, scope, stage.id(), status, after, want));
      page.forEach(t -> items.add(JobJson.task(t, stage.stage())));
      if (items.size() == limit && !page.isEmpty()) {
        next = RequestParams.tasksCursor(i, page.get(page.size() - 1).seq());
      }
    }
    body.put("nextCursor", next);
    ctx.json(body);
  }

  /** Readiness, and the queues paused: a paused queue is an operator's choice, not unreadiness. */
  private void ready(Context ctx) {
    Health.Report report = health.check();
    ArrayNode paused = report.body().putArray("pausedQueues");
    queues.paused().forEach(paused::add);
    ctx.status(report.ready() ? 200 : 503).json(report.body());
  }

  private Job findJob(Context ctx, Caller caller) {
    return findJob(ctx, caller.scope());
  }

  /** The job named by the path, or 404 when there is none in the caller's scope. */
  private Job findJob(Context ctx, TenantScope scope) {
    UUID id = RequestParams.jobId(ctx);
    return db.query(c -> jobs.find(c, scope, id))
        .orElseThrow(() -> new Refusal.JobNotFound("no job with id " + id, id));
  }

  /** The caller named by the request's bearer token (admin tokens first), or the API's 401. */
  private Caller authenticate(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      ctx.header("WWW-Authenticate", "Bearer");
      throw new ApiException(401, "missing bearer token: send Authorization: Bearer <token>");
    }
    String presented = header.substring(7).trim();
    Caller caller =
        config
            .adminTokens()
            .tenantOf(presented)
            .map(tenant -> new Caller(tenant, true))
            .or(() -> config.tokens().tenantOf(presented).map(tenant -> new Caller(tenant, false)))
            .orElseThrow(
                () -> {
                  ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
                  return new ApiException(401, "the bearer token is not valid");
                });
    limiter.admit(caller.tenant());
    return caller;
  }
}
