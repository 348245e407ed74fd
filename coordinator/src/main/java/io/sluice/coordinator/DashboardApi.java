package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.PostgresDashboardStore;
import io.sluice.store.PostgresDashboardStore.DeadLetter;
import io.sluice.store.PostgresDashboardStore.NodeView;
import io.sluice.store.PostgresTaskRequeue;
import io.sluice.store.TenantScope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * The dashboard: its page at {@code /} and the endpoints only it needs — workers, dead-lettered
 * tasks and the requeue action (its queues come from {@link QueuesApi}). The page and its files are
 * open (they hold no data); every endpoint needs a bearer token and shows only the token's tenant's
 * jobs, or every tenant's for an admin token ({@code SLUICE_ADMIN_TOKENS}), which is what the
 * dashboard is meant to use.
 */
final class DashboardApi {
  private static final Map<String, String> ASSETS =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "app.js", "text/javascript; charset=utf-8",
          "graph.js", "text/javascript; charset=utf-8",
          "style.css", "text/css; charset=utf-8");
  // The page loads nothing from elsewhere and runs no inline script.
  private static final String CSP =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private final CoordinatorConfig config;
  private final Database db;
  private final Function<Context, Caller> authenticate;
  private final PostgresDashboardStore store = new PostgresDashboardStore();
  private final TaskRequeuer requeuer;
  private final Map<String, byte[]> assets;
  private CoordinatorRedis redis;

  private DashboardApi(
      CoordinatorConfig config,
      Database db,
      MeterRegistry metrics,
      Function<Context, Caller> authenticate) {
    this.config = config;
    this.db = db;
    this.authenticate = authenticate;
    this.requeuer = new TaskRequeuer(db, this::redis, metrics, config.limits()::quotaOf);
    this.assets = loadAssets();
  }

  /**
   * Adds the dashboard's routes to {@code app}; {@code authenticate} checks a request's bearer
   * token and returns its tenant, or throws the API's 401.
   */
  static void register(
      Javalin app,
      CoordinatorConfig config,
      Database db,
      MeterRegistry metrics,
      Function<Context, Caller> authenticate) {
    DashboardApi api = new DashboardApi(config, db, metrics, authenticate);
    app.get("/", ctx -> api.asset(ctx, "index.html"));
    app.get("/dashboard/{file}", ctx -> api.asset(ctx, ctx.pathParam("file")));
    app.get("/api/v1/workers", api::workers);
    app.get("/api/v1/dead-letters", api::deadLetters);
    app.post("/api/v1/jobs/{id}/tasks/{seq}/requeue", api::requeue);
    app.events(e -> e.serverStopped(api::close));
  }

  private void asset(Context ctx, String name) {
    byte[] body = assets.get(name);
    if (body == null) {
      throw new ApiException(404, "no such dashboard file: " + name);
    }
    ctx.header("Cache-Control", "no-cache")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("Content-Security-Policy", CSP)
        .contentType(ASSETS.get(name))
        .result(body);
  }

  private void workers(Context ctx) {
    TenantScope scope = authenticate.apply(ctx).scope();
    List<NodeView> nodes = db.query(c -> store.nodes(c, scope, RequestParams.limit(ctx)));
    ObjectNode body = Json.object().put("now", Instant.now().toString());
    ArrayNode items = body.putArray("items");
    for (NodeView n : nodes) {
      ObjectNode item = items.addObject();
      item.put("id", n.id()).put("kind", n.kind()).put("status", n.status());
      item.put("version", n.version());
      item.put("startedAt", n.startedAt().toString());
      item.put("heartbeatAt", n.heartbeatAt().toString());
      item.put("heartbeatAgeMs", n.heartbeatAgeMs());
      item.put("runningTasks", n.runningTasks());
      item.set("info", n.info());
    }
    ctx.json(body);
  }

  private void deadLetters(Context ctx) {
    TenantScope scope = authenticate.apply(ctx).scope();
    List<DeadLetter> dead = db.query(c -> store.deadLetters(c, scope, RequestParams.limit(ctx)));
    ObjectNode body = Json.object();
    ArrayNode items = body.putArray("items");
    for (DeadLetter d : dead) {
      ObjectNode item = items.addObject();
      item.put("jobId", d.jobId().toString()).put("seq", d.seq()).put("attempt", d.attempt());
      item.put("workerId", d.workerId()).put("error", d.error());
      item.put("finishedAt", d.finishedAt() == null ? null : d.finishedAt().toString());
      item.put("jobType", d.jobType()).put("queue", d.queue());
      item.put("jobStatus", d.jobStatus().name());
      item.put("requeueable", PostgresTaskRequeue.REQUEUABLE.contains(d.jobStatus()));
    }
    ctx.json(body);
  }

  private void requeue(Context ctx) {
    Caller caller = authenticate.apply(ctx);
    UUID jobId = RequestParams.jobId(ctx);
    int seq = RequestParams.seq(ctx);
    TaskRequeuer.Done done = requeuer.requeue(jobId, seq, IfMatch.optional(ctx), caller);
    ctx.header("ETag", "\"" + done.jobVersion() + "\"");
    ctx.json(
        Json.object()
            .put("jobId", jobId.toString())
            .put("seq", seq)
            .put("taskStatus", "QUEUED")
            .put("jobStatus", done.jobStatus().name())
            .put("jobVersion", done.jobVersion())
            .put("revivedTasks", done.requeued().revived())
            .put("dispatched", done.dispatched()));
  }

  private CoordinatorRedis redis() {
    synchronized (this) {
      if (redis == null) {
        redis = new LettuceCoordination(config.redis());
      }
      return redis;
    }
  }

  private void close() {
    synchronized (this) {
      if (redis != null) {
        redis.close();
        redis = null;
      }
    }
  }

  private static Map<String, byte[]> loadAssets() {
    Map<String, byte[]> loaded = new HashMap<>();
    for (String name : ASSETS.keySet()) {
      try (InputStream in = DashboardApi.class.getResourceAsStream("/dashboard/" + name)) {
        if (in == null) {
          throw new IllegalStateException("dashboard file " + name + " is missing from the jar");
        }
        loaded.put(name, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return Map.copyOf(loaded);
  }
}
