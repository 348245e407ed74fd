package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.PostgresScheduleStore;
import io.sluice.store.PostgresScheduleStore.Changed;
import io.sluice.store.PostgresScheduleStore.Missing;
import io.sluice.store.PostgresScheduleStore.Redefined;
import io.sluice.store.PostgresScheduleStore.Stale;
import io.sluice.store.Schedule;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/schedules}: create, list, read, change ({@code If-Match} required) and delete a
 * tenant's schedules. A token sees and changes only its tenant's; an admin token lists every
 * tenant's and names another tenant's schedule with {@code ?tenant=}.
 */
final class ScheduleApi {
  private static final Logger log = LoggerFactory.getLogger(ScheduleApi.class);

  /** What the calls need from the coordinator. */
  record Parts(
      CoordinatorConfig config,
      Database db,
      JobSubmitter submitter,
      Function<Context, Caller> authenticate) {}

  private final Parts parts;
  private final PostgresScheduleStore store = new PostgresScheduleStore();

  private ScheduleApi(Parts parts) {
    this.parts = parts;
  }

  static void register(Javalin app, Parts parts) {
    ScheduleApi api = new ScheduleApi(parts);
    app.post("/api/v1/schedules", api::create);
    app.get("/api/v1/schedules", api::list);
    app.get("/api/v1/schedules/{name}", api::get);
    app.patch("/api/v1/schedules/{name}", api::patch);
    app.delete("/api/v1/schedules/{name}", api::delete);
  }

  private void create(Context ctx) {
    String tenant = parts.authenticate().apply(ctx).tenant();
    JsonNode root = JsonBodies.read(ctx, parts.config().maxBodyBytes());
    Instant now = parts.db().query(store::now);
    Schedule schedule = ScheduleDefinition.create(root, tenant, now, parts.submitter());
    admitCallback(tenant, schedule);
    if (!parts.db().inTransaction(c -> store.insert(c, schedule))) {
      throw new ApiException(
              409, "tenant " + tenant + " has a schedule named '" + schedule.name() + "' already")
          .with("field", "name");
    }
    log.info(
        "Schedule {}/{} created, first fire at {}", tenant, schedule.name(), schedule.nextFireAt());
    ctx.header("Location", "/api/v1/schedules/" + schedule.name());
    respond(ctx, 201, find(tenant, schedule.name()));
  }

  private void list(Context ctx) {
    Caller caller = parts.authenticate().apply(ctx);
    int limit = RequestParams.limit(ctx);
    String[] after = cursor(ctx.queryParam("cursor"));
    List<Schedule> page =
        parts.db().query(c -> store.page(c, caller.scope(), after[0], after[1], limit));
    ObjectNode body = Json.object();
    ArrayNode items = body.putArray("items");
    page.forEach(s -> items.add(ScheduleDefinition.json(s)));
    Schedule last = page.size() == limit ? page.get(page.size() - 1) : null;
    body.put("nextCursor", last == null ? null : cursor(last));
    ctx.json(body);
  }

  private void get(Context ctx) {
    String tenant = target(ctx);
    respond(ctx, 200, find(tenant, ctx.pathParam("name")));
  }

  /** A schedule's job may carry a callback only as a submit may: secret and target checked. */
  private void admitCallback(String tenant, Schedule schedule) {
    parts.config().webhooks().admitAll(tenant, SubmitRequestParser.parse(schedule.job()), "job.");
  }

  private void patch(Context ctx) {
    String tenant = target(ctx);
    long expected = IfMatch.required(ctx);
    String name = ctx.pathParam("name");
    JsonNode root = JsonBodies.read(ctx, parts.config().maxBodyBytes());
    Redefined outcome =
        parts
            .db()
            .inTransaction(
                c -> {
                  Schedule current = store.lock(c, tenant, name).orElse(null);
                  if (current == null) {
                    return new Missing();
                  }
                  if (current.version() != expected) {
                    return new Stale(current.version());
                  }
                  // After the last fire too: a new timing never names a fire time again.
                  Instant now = store.now(c);
                  Instant from =
                      current.lastFireAt() != null && current.lastFireAt().isAfter(now)
                          ? current.lastFireAt()
                          : now;
                  Schedule changed =
                      ScheduleDefinition.patch(root, current, from, parts.submitter());
                  admitCallback(tenant, changed);
                  return store.redefine(c, changed, expected);
                });
    switch (outcome) {
      case Changed changed -> {
        log.info(
            "Schedule {}/{} changed to version {}", tenant, name, changed.schedule().version());
        respond(ctx, 200, changed.schedule());
      }
      case Missing m -> throw notFound(tenant, name);
      case Stale stale ->
          throw new ApiException(
                  409,
                  "version "
                      + expected
                      + " is stale: the schedule is at version "
                      + stale.currentVersion()
                      + "; read it again and retry")
              .with("currentVersion", stale.currentVersion());
    }
  }

  private void delete(Context ctx) {
    String tenant = target(ctx);
    String name = ctx.pathParam("name");
    if (!parts.db().inTransaction(c -> store.delete(c, tenant, name))) {
      throw notFound(tenant, name);
    }
    log.info("Schedule {}/{} deleted; the jobs it submitted stay", tenant, name);
    ctx.status(204);
  }

  /** The tenant whose schedule the path names: the caller's, or for an admin {@code ?tenant=}. */
  private String target(Context ctx) {
    Caller caller = parts.authenticate().apply(ctx);
    String asked = ctx.queryParam("tenant");
    return caller.admin() && asked != null && !asked.isBlank() ? asked : caller.tenant();
  }

  private Schedule find(String tenant, String name) {
    return parts
        .db()
        .query(c -> store.find(c, tenant, name))
        .orElseThrow(() -> notFound(tenant, name));
  }

  private static ApiException notFound(String tenant, String name) {
    return new ApiException(404, "tenant " + tenant + " has no schedule named '" + name + "'")
        .with("name", name);
  }

  private static void respond(Context ctx, int status, Schedule s) {
    ctx.header("ETag", "\"" + s.version() + "\"");
    ctx.status(status).json(ScheduleDefinition.json(s));
  }

  private static String cursor(Schedule s) {
    String raw = s.tenant() + "\n" + s.name();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  private static String[] cursor(String raw) {
    if (raw == null || raw.isEmpty()) {
      return new String[2];
    }
    try {
      String[] parts =
          new String(Base64.getUrlDecoder().decode(raw), StandardCharsets.UTF_8).split("\n", 2);
      if (parts.length == 2) {
        return parts;
      }
    } catch (IllegalArgumentException ignored) {
      // Falls through to the error below.
    }
    throw new ApiException(400, "cursor is not one this API gave out").with("field", "cursor");
  }
}
