package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.config.QueueRates;
import io.sluice.coordinator.CoordinatorRedis.QueueDepth;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.PostgresDashboardStore;
import io.sluice.store.PostgresDashboardStore.QueueActivity;
import io.sluice.store.PostgresQueueStore.QueueRow;
import io.sluice.store.TenantScope;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/queues} (each queue's depth, throughput, paused state and rate limit) and
 * {@code POST /api/v1/queues/{queue}/pause} / {@code …/resume}, which need an admin token. A
 * tenant's token lists the queues its jobs use; an admin token lists every queue with jobs, and
 * every queue paused, resumed or rate-limited, and sees who paused it.
 */
final class QueuesApi {
  private static final Logger log = LoggerFactory.getLogger(QueuesApi.class);
  private static final Duration THROUGHPUT_WINDOW = Duration.ofMinutes(1);

  /** What the calls need from the coordinator. */
  record Parts(
      Database db,
      CoordinatorRedis redis,
      QueueControls controls,
      Function<Context, Caller> authenticate) {}

  private final Parts parts;
  private final PostgresDashboardStore store = new PostgresDashboardStore();

  private QueuesApi(Parts parts) {
    this.parts = parts;
  }

  static void register(Javalin app, Parts parts) {
    QueuesApi api = new QueuesApi(parts);
    app.get("/api/v1/queues", api::list);
    app.post("/api/v1/queues/{queue}/pause", ctx -> api.change(ctx, true));
    app.post("/api/v1/queues/{queue}/resume", ctx -> api.change(ctx, false));
  }

  private void change(Context ctx, boolean pause) {
    Caller caller = parts.authenticate().apply(ctx);
    String verb = pause ? "pausing" : "resuming";
    if (!caller.admin()) {
      throw new ApiException(
              403,
              verb
                  + " a queue needs an admin token (SLUICE_ADMIN_TOKENS); this token is tenant "
                  + caller.tenant()
                  + "'s")
          .with("field", "Authorization");
    }
    String queue = ctx.pathParam("queue");
    if (!queue.matches(SubmitRequestParser.NAME)) {
      throw new ApiException(400, "queue must be 1-64 letters, digits, '_', '.' or '-'")
          .with("field", "queue")
          .with("value", queue.length() > 80 ? queue.substring(0, 80) + "…" : queue);
    }
    QueueRow row =
        pause ? parts.controls().pause(queue, caller) : parts.controls().resume(queue, caller);
    ObjectNode body = Json.object().put("name", queue);
    control(body, row, parts.controls().rates().of(queue), true);
    ctx.json(body);
  }

  private void list(Context ctx) {
    Caller caller = parts.authenticate().apply(ctx);
    TenantScope scope = caller.scope();
    List<QueueActivity> activity =
        parts.db().query(c -> store.queues(c, scope, THROUGHPUT_WINDOW, RequestParams.limit(ctx)));
    Map<String, QueueActivity> byName = new LinkedHashMap<>();
    activity.forEach(a -> byName.put(a.queue(), a));
    Map<String, QueueRow> rows = parts.controls().rows();
    QueueRates rates = parts.controls().rates();
    TreeSet<String> names = new TreeSet<>(byName.keySet());
    if (caller.admin()) {
      names.addAll(rows.keySet());
      names.addAll(rates.perQueue().keySet());
    }
    ObjectNode body = Json.object().put("windowSeconds", THROUGHPUT_WINDOW.toSeconds());
    Map<String, QueueDepth> depths = depths(body, List.copyOf(names));
    ArrayNode items = body.putArray("items");
    for (String name : names) {
      ObjectNode item = items.addObject().put("name", name);
      depth(item, depths.get(name));
      QueueActivity q = byName.getOrDefault(name, new QueueActivity(name, 0, 0, 0));
      item.put("activeJobs", q.activeJobs()).put("openTasks", q.openTasks());
      item.put("finishedLastMinute", q.finished());
      item.put("perSecond", q.finished() / (double) THROUGHPUT_WINDOW.toSeconds());
      control(item, rows.get(name), rates.of(name), caller.admin());
    }
    body.putArray("paused").addAll(pausedOf(names, rows));
    ctx.json(body);
  }

  private Map<String, QueueDepth> depths(ObjectNode body, List<String> names) {
    try {
      Map<String, QueueDepth> depths = parts.redis().queueDepths(names);
      body.put("redis", "UP");
      return depths;
    } catch (RuntimeException e) {
      // PostgreSQL's half of the view is still worth showing while Redis is away.
      log.debug("Queue depths unavailable: {}", e.toString());
      body.put("redis", "DOWN").put("redisError", e.getMessage());
      return Map.of();
    }
  }

  private static void depth(ObjectNode item, QueueDepth depth) {
    if (depth == null) {
      item.putNull("ready").putNull("pending").putNull("waiting").putNull("oldestAgeMs");
    } else {
      item.put("ready", depth.length()).put("pending", depth.pending());
      item.put("waiting", Math.max(0, depth.length() - depth.pending()));
      item.put("oldestAgeMs", depth.oldestAgeMs());
    }
  }

  /** A queue's paused state and rate limit; who paused it only for an admin. */
  private static void control(
      ObjectNode item, QueueRow row, QueueRates.Rate rate, boolean showWho) {
    boolean paused = row != null && row.paused();
    item.put("paused", paused);
    item.put("pausedAt", paused ? row.pausedAt().toString() : null);
    if (showWho) {
      item.put("pausedBy", paused ? row.pausedBy() : null);
    }
    item.put("controlVersion", row == null ? 0 : row.version());
    if (rate == null) {
      item.putNull("rateLimit");
    } else {
      item.putObject("rateLimit")
          .put("spec", rate.spec())
          .put("count", rate.count())
          .put("periodSeconds", rate.period().toSeconds())
          .put("perSecond", rate.perSecond());
    }
  }

  private static ArrayNode pausedOf(TreeSet<String> names, Map<String, QueueRow> rows) {
    ArrayNode paused = Json.MAPPER.createArrayNode();
    names.stream().filter(n -> rows.containsKey(n) && rows.get(n).paused()).forEach(paused::add);
    return paused;
  }
}
