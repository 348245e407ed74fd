package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.Exchange.Resend;
import io.sluice.json.Json;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * The schedule calls of the API ({@code /api/v1/schedules}), from {@link SluiceClient#schedules()}.
 * A schedule is answered as the server's JSON: {@code name, cron|every, timezone, job, overlap,
 * catchUp, paused, version, nextFireAt, lastFireAt, lastJobId, fires, skipped}.
 */
public final class Schedules {
  private final Exchange exchange;
  private final Function<String, HttpRequest.Builder> request;

  Schedules(Exchange exchange, Function<String, HttpRequest.Builder> request) {
    this.exchange = exchange;
    this.request = request;
  }

  /**
   * {@code POST /api/v1/schedules}, sent once; a name the tenant has already is a {@link
   * SluiceApiException} with status 409.
   *
   * @param body {@code name}, {@code cron} or {@code every}, {@code job} (a submit body) and the
   *     optional {@code timezone}, {@code overlap}, {@code catchUp}, {@code paused}
   * @return the new schedule
   */
  public JsonNode create(ObjectNode body) {
    HttpRequest r =
        request
            .apply("/api/v1/schedules")
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8))
            .build();
    return Exchange.body(exchange.send(r, Resend.NEVER));
  }

  /**
   * {@code GET /api/v1/schedules}: one page, in (tenant, name) order; {@code cursor} may be null.
   */
  public Page list(String cursor, int limit) {
    String path =
        "/api/v1/schedules?limit=" + limit + (cursor == null ? "" : "&cursor=" + encode(cursor));
    return new Page(Exchange.body(exchange.send(request.apply(path).GET().build(), Resend.SAFE)));
  }

  /** {@code GET /api/v1/schedules/{name}}; 404 as a {@link SluiceApiException}. */
  public JsonNode get(String name) {
    return Exchange.body(exchange.send(request.apply(path(name)).GET().build(), Resend.SAFE));
  }

  /**
   * One {@code PATCH /api/v1/schedules/{name}} with {@code If-Match: "<version>"}: a stale version
   * is a {@link SluiceApiException} whose {@link SluiceApiException#isVersionConflict()} is true.
   *
   * @param change any of {@code cron}, {@code every}, {@code job}, {@code overlap}, {@code paused}
   */
  public JsonNode patch(String name, long version, ObjectNode change) {
    HttpRequest r =
        request
            .apply(path(name))
            .header("Content-Type", "application/json")
            .header("If-Match", "\"" + version + "\"")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(Json.write(change)))
            .build();
    return Exchange.body(exchange.once(r));
  }

  /** Pauses the schedule at the version it has now: reads it, then patches {@code paused}. */
  public JsonNode pause(String name) {
    return setPaused(name, true);
  }

  /** Resumes the schedule; it next fires at its first fire time from now (none is caught up). */
  public JsonNode resume(String name) {
    return setPaused(name, false);
  }

  /** {@code DELETE /api/v1/schedules/{name}}: the schedule and its fires; its jobs stay. */
  public void delete(String name) {
    exchange.send(request.apply(path(name)).DELETE().build(), Resend.NEVER);
  }

  private JsonNode setPaused(String name, boolean paused) {
    long version = get(name).path("version").asLong();
    return patch(name, version, Json.object().put("paused", paused));
  }

  private static String path(String name) {
    return "/api/v1/schedules/" + encode(name);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
