package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.PostgresWebhooks;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * {@code GET /api/v1/webhooks?status=&jobId=&limit=}: callback deliveries, newest first, of the
 * caller's tenant (every tenant's for an admin token) — what an operator reads to see which ones
 * keep failing and why.
 */
final class WebhooksApi {
  private static final Set<String> STATUSES = Set.of("PENDING", "DELIVERED", "FAILED");

  private final Database db;
  private final Function<Context, Caller> authenticate;
  private final PostgresWebhooks store = new PostgresWebhooks();

  private WebhooksApi(Database db, Function<Context, Caller> authenticate) {
    this.db = db;
    this.authenticate = authenticate;
  }

  static void register(Javalin app, Database db, Function<Context, Caller> authenticate) {
    WebhooksApi api = new WebhooksApi(db, authenticate);
    app.get("/api/v1/webhooks", api::list);
  }

  private void list(Context ctx) {
    Caller caller = authenticate.apply(ctx);
    String status = ctx.queryParam("status");
    if (status != null && !STATUSES.contains(status)) {
      throw new ApiException(400, "status must be one of " + STATUSES).with("field", "status");
    }
    UUID job = jobId(ctx.queryParam("jobId"));
    int limit = RequestParams.limit(ctx);
    ObjectNode body = Json.object();
    ArrayNode items = body.putArray("items");
    for (PostgresWebhooks.View v :
        db.query(c -> store.page(c, caller.scope(), status, job, limit))) {
      ObjectNode item = items.addObject();
      item.put("id", Long.toString(v.id())).put("jobId", v.jobId().toString());
      item.put("url", v.url()).put("event", v.event()).put("status", v.status());
      item.put("attempts", v.attempts());
      item.put("lastStatusCode", v.lastStatusCode()).put("lastError", v.lastError());
      item.put("createdAt", text(v.createdAt())).put("finishedAt", text(v.finishedAt()));
      item.put("nextAttemptAt", "PENDING".equals(v.status()) ? text(v.nextAttemptAt()) : null);
    }
    ctx.json(body);
  }

  private static UUID jobId(String raw) {
    if (raw == null) {
      return null;
    }
    try {
      return UUID.fromString(raw);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "jobId must be a job's id (a UUID)").with("field", "jobId");
    }
  }

  private static String text(Instant t) {
    return t == null ? null : t.toString();
  }
}
