package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/** Every rejected submission says what was wrong and changes nothing, in PostgreSQL or in Redis. */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RejectedInputIT {
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 0, 1);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void badInputGetsAClearFourHundredAndLeavesNoRowOrKeyBehind() throws Exception {
    List<Long> before = footprint();
    String valid = "{\"type\":\"noop\",\"payload\":{\"tasks\":2}}";

    expect(
        stack.post("/api/v1/jobs", "application/json", Stack.TOKEN, "{\"type\": \"noop\", "),
        400,
        "malformed JSON");
    expect(stack.submit("{\"type\":\"nope\",\"payload\":{}}"), 400, "unknown job type");
    expect(stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":0}}"), 400, "payload.tasks");
    expect(
        stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":\"ten\"}}"), 400, "payload.tasks");
    expect(
        stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":2},\"maxAttempts\":0}"),
        400,
        "maxAttempts");
    expect(
        stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":2},\"colour\":1}"),
        400,
        "unknown field");
    expect(
        stack.submit("{\"type\":\"wordcount\",\"payload\":{\"text\":\"a b\"}}"),
        400,
        "payload.linesPerTask");
    expect(stack.submit("[1,2]"), 400, "JSON object");
    expect(
        stack.post("/api/v1/jobs", "application/json", null, valid), 401, "missing bearer token");
    expect(
        stack.post("/api/v1/jobs", "application/json", "wrong-token-123", valid), 401, "not valid");
    expect(stack.post("/api/v1/jobs", "text/plain", Stack.TOKEN, valid), 415, "Content-Type");
    String huge =
        "{\"type\":\"wordcount\",\"payload\":{\"linesPerTask\":1,\"text\":\""
            + "x ".repeat(600_000)
            + "\"}}";
    expect(
        stack.post("/api/v1/jobs", "application/json", Stack.TOKEN, huge),
        413,
        "exceeds the limit");
    expect(stack.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000"), 404, "no job");
    expect(stack.get("/api/v1/jobs/not-a-uuid"), 400, "UUID");
    expect(stack.get("/api/v1/jobs?limit=0"), 400, "limit");

    assertThat(footprint()).as("jobs, tasks, events, Redis keys").isEqualTo(before);
  }

  private static void expect(HttpResponse<String> response, int status, String says) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/json");
    assertThat(Json.read(response.body()).get("error").asText()).contains(says);
  }

  private List<Long> footprint() throws Exception {
    try (Connection c = stack.env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM tasks), (SELECT count(*) FROM job_events)");
        JedisPooled redis = new JedisPooled(URI.create(stack.env.redisUrl()))) {
      rs.next();
      // Job and queue keys only: the leader lock and the rebuild marker come and go on their own.
      long keys =
          redis.keys(stack.env.redisPrefix() + ":*").stream()
              .filter(k -> k.contains("{j:") || k.contains("{q:"))
              .count();
      return List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), keys);
    }
  }
}
