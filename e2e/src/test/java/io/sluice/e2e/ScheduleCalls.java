package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** The schedule calls over real HTTP against one coordinator, and the fires' rows to count. */
final class ScheduleCalls {
  private final Supplier<String> api;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Against the coordinator {@code api} names when called (it may change after a failover). */
  ScheduleCalls(Supplier<String> api) {
    this.api = api;
  }

  HttpResponse<String> create(String token, String body) {
    return send(token, null, "POST", "/api/v1/schedules", body);
  }

  /** Creates the schedule and returns it, failing unless the answer is 201. */
  JsonNode created(String token, String body) {
    HttpResponse<String> r = create(token, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.read(r.body());
  }

  HttpResponse<String> get(String token, String path) {
    return send(token, null, "GET", path, null);
  }

  HttpResponse<String> patch(String token, String name, String ifMatch, String body) {
    return send(token, ifMatch, "PATCH", "/api/v1/schedules/" + name, body);
  }

  HttpResponse<String> delete(String token, String name) {
    return send(token, null, "DELETE", "/api/v1/schedules/" + name, null);
  }

  /** Pauses the schedule, reading its version first. */
  void pause(String token, String name) {
    String etag =
        get(token, "/api/v1/schedules/" + name).headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> r = patch(token, name, etag, "{\"paused\":true}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private HttpResponse<String> send(
      String token, String ifMatch, String method, String path, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.get() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path + " failed", e);
    }
  }

  /** A fire as stored: its time, the job it submitted (null when skipped), the job's key. */
  record FireRow(Instant fireTime, String outcome, String jobId, String jobKey, long epoch) {}

  /** Every fire of the tenant's schedule, in fire-time order, joined to its job. */
  static List<FireRow> fires(Connection c, String tenant, String name) throws SQLException {
    String sql =
        """
        SELECT f.fire_time, f.outcome, f.job_id::text, j.idempotency_key, f.epoch
          FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id
          LEFT JOIN jobs j ON j.id = f.job_id
         WHERE s.tenant = ? AND s.name = ?
         ORDER BY f.fire_time
        """;
    List<FireRow> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, tenant);
      ps.setString(2, name);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new FireRow(
                  rs.getTimestamp(1).toInstant(),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getLong(5)));
        }
      }
    }
    return rows;
  }

  /** How many jobs the tenant's schedule ever submitted (by their per-fire idempotency key). */
  static long jobsOf(Connection c, String tenant, String name) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM jobs j JOIN schedules s ON j.idempotency_key LIKE"
                + " 'schedule:' || s.id || ':%' WHERE s.tenant = ? AND s.name = ?")) {
      ps.setString(1, tenant);
      ps.setString(2, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
