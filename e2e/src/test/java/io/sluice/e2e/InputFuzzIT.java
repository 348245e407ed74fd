package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.frequency;
import static org.quicktheories.generators.Generate.oneOf;
import static org.quicktheories.generators.Generate.pick;
import static org.quicktheories.generators.Generate.range;
import static org.quicktheories.generators.SourceDSL.lists;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.coordinator.ApiLimits;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import redis.clients.jedis.JedisPooled;

/**
 * Property-based (QuickTheories, which shrinks a failing body to a small one): generated JSON
 * bodies for submit, PATCH and requeue — NUL and lone surrogates in strings and names, numbers
 * beyond a double, wrong types, unknown fields, odd times — against a real coordinator. Every
 * answer is 2xx or 4xx, never 5xx, and a rejected request leaves no row or Redis key behind. The
 * stack has no worker, so an accepted job settles (RUNNING, or QUEUED until its runAt) and nothing
 * else moves.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InputFuzzIT {
  private static final int EXAMPLES = 150;
  private static final int SHRINK_CYCLES = 40;
  private static final List<String> PIECES =
      List.of(
          "a",
          "word",
          "two words\\nline",
          "\\u0000",
          "\\ud800",
          "\\udc00",
          "\\ud83d\\ude00",
          "é",
          "\\\"",
          "\\\\",
          " ",
          "0",
          "{",
          "long".repeat(70));
  private static final List<String> NUMBERS =
      List.of(
          "0",
          "1",
          "2",
          "-1",
          "1.5",
          "1e400",
          "-1e400",
          "1e-400",
          "1e308",
          "2147483648",
          "12345678901234567890",
          "-0");

  private final HttpClient http = HttpClient.newHttpClient();
  private Stack stack;
  private JobApi api;
  private UUID target;
  private Connection sql;
  private JedisPooled redis;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 0, 1, c -> c.withLimits(new ApiLimits(100_000, 100_000, 0, Map.of())));
    api = new JobApi(stack);
    try {
      sql = env.connect();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    redis = api.redis();
    target =
        api.create("{\"type\":\"noop\",\"payload\":{\"tasks\":2},\"runAt\":\"" + later() + "\"}");
  }

  @AfterAll
  void stop() throws Exception {
    redis.close();
    sql.close();
    stack.close();
  }

  /**
   * Rows of jobs, tasks and events, the sum of job versions, and the Redis keys of jobs and queues:
   * what a refused request must leave as it was. One statement and one reused connection each.
   */
  private List<Long> footprint() {
    try (var rs =
        sql.createStatement()
            .executeQuery(
                "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM tasks),"
                    + " (SELECT count(*) FROM job_events), (SELECT coalesce(sum(version), 0) FROM jobs)")) {
      rs.next();
      long keys =
          redis.keys(stack.env.redisPrefix() + ":*").stream()
              .filter(k -> k.contains("{j:") || k.contains("{q:"))
              .count();
      return List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), keys);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void unstorableTextOrNumbersGet400NamingTheFieldAndWriteNothing() {
    Map<String, String> submits =
        Map.of(
            "payload.text",
            "{\"type\":\"wordcount\",\"payload\":{\"text\":\"a\\u0000b\",\"linesPerTask\":1}}",
            "idempotencyKey",
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"idempotencyKey\":\"k\\u0000\"}",
            "labels.team",
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"labels\":{\"team\":\"\\u0000\"}}",
            "payload.note",
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1,\"note\":\"\\ud800\"}}",
            "payload.big",
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1,\"big\":1e400}}");
    submits.forEach(
        (field, body) ->
            refused(
                field, () -> stack.post("/api/v1/jobs", "application/json", Stack.TOKEN, body)));
    refused(
        "labels.team",
        () ->
            api.patch(
                target,
                currentVersion(),
                "application/json",
                Stack.TOKEN,
                "{\"labels\":{\"team\":\"x\\u0000\"}}"));
  }

  private void refused(String field, Supplier<HttpResponse<String>> request) {
    List<Long> before = footprint();
    HttpResponse<String> response = request.get();
    assertThat(response.statusCode()).as(field + ": " + response.body()).isEqualTo(400);
    assertThat(Json.read(response.body()).get("field").asText()).isEqualTo(field);
    assertThat(footprint()).as("nothing written for " + field).isEqualTo(before);
  }

  @Test
  void aSubmitBodyIsAcceptedOrRefusedWithA4xxAndARefusalWritesNothing() {
    qt().withExamples(EXAMPLES)
        .withShrinkCycles(SHRINK_CYCLES)
        .forAll(submitBody())
        .checkAssert(
            body ->
                exchange(
                    "POST /api/v1/jobs " + body,
                    () -> stack.post("/api/v1/jobs", "application/json", Stack.TOKEN, body)));
  }

  @Test
  void aPatchBodyIsAppliedOrRefusedWithA4xxAndARefusalWritesNothing() {
    qt().withExamples(EXAMPLES)
        .withShrinkCycles(SHRINK_CYCLES)
        .forAll(patchBody(), ifMatch())
        .checkAssert(
            (body, ifMatch) ->
                exchange(
                    "PATCH " + ifMatch + " " + body,
                    () ->
                        api.patch(
                            target,
                            ifMatch.equals("current") ? currentVersion() : nullIfNone(ifMatch),
                            "application/json",
                            Stack.TOKEN,
                            body)));
  }

  @Test
  void aRequeueIsRefusedWithA4xxAndWritesNothing() {
    Gen<String> job = pick(List.of("target", "random", "not-a-uuid", "%00", "%F0%9F"));
    Gen<String> seq = pick(List.of("0", "1", "-1", "99999999999", "x", "%00", "1e3"));
    qt().withExamples(EXAMPLES)
        .withShrinkCycles(SHRINK_CYCLES)
        .forAll(job, seq, value(2), ifMatch())
        .checkAssert(
            (j, s, body, ifMatch) ->
                exchange(
                    "requeue " + j + "/" + s + " " + ifMatch + " " + body,
                    () -> requeue(jobPath(j), s, body, ifMatch)));
  }

  /** Sends one request and checks the invariant around it. */
  private void exchange(String what, Supplier<HttpResponse<String>> request) {
    List<Long> before = footprint();
    HttpResponse<String> response = request.get();
    int status = response.statusCode();
    assertThat(status).as(what + " answered " + response.body()).isBetween(200, 499);
    if (status >= 400) {
      // A path Jetty itself refuses (%00 in it) gets Jetty's own page; everything else is JSON.
      if (response.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) {
        assertThat(Json.read(response.body()).has("error")).as(what).isTrue();
      }
      assertThat(footprint())
          .as("jobs, tasks, events, versions, Redis keys after " + what)
          .isEqualTo(before);
    } else {
      settle(response);
    }
  }

  /** Waits until what an accepted request started has finished moving (no worker runs it). */
  private void settle(HttpResponse<String> response) {
    JsonNode body = Json.read(response.body());
    AtomicReference<List<Long>> last = new AtomicReference<>(List.of());
    Awaitility.await("the accepted request's job settles")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              JsonNode job = api.job(UUID.fromString(body.get("id").asText()));
              String status = job.get("status").asText();
              boolean still =
                  status.equals("RUNNING")
                      || status.matches("SUCCEEDED|FAILED|CANCELLED")
                      || (status.equals("QUEUED") && !job.get("runAt").isNull());
              List<Long> now = footprint();
              return still && now.equals(last.getAndSet(now));
            });
  }

  private Gen<String> submitBody() {
    Gen<String> type =
        frequency(
            Pair.of(16, pick(List.of("\"noop\"", "\"wordcount\""))),
            Pair.of(1, pick(List.of("\"nope\"", "7"))),
            Pair.of(1, text()));
    // Mostly bodies a job type accepts, so a bad spot deep inside reaches the store.
    Gen<String> payload =
        frequency(
            Pair.of(1, number().map(n -> "{\"tasks\":" + n + "}")),
            Pair.of(
                2,
                text()
                    .zip(
                        mostly("1", number()),
                        (t, n) -> "{\"text\":" + t + ",\"linesPerTask\":" + n + "}")),
            Pair.of(
                4,
                pick(List.of("1", "2")).zip(object(2), (n, o) -> "{\"tasks\":" + n + mergeInto(o))),
            Pair.of(1, value(2)));
    Gen<String> runAt =
        oneOf(
            pick(
                List.of(
                    "\"" + later() + "\"",
                    "\"1969-12-31T23:59:59Z\"",
                    "\"-999999999-01-01T00:00:00Z\"",
                    "\"+999999999-12-31T23:59:59Z\"",
                    "\"soon\"")),
            text());
    Gen<String> labels = labels();
    return fields(
        List.of(
            field("type", type, 95),
            field("payload", payload, 95),
            field("idempotencyKey", text(), 40),
            field("priority", mostly("5", number()), 20),
            field("maxAttempts", mostly("2", number()), 20),
            field("labels", labels, 30),
            field("runAt", runAt, 15),
            field("queue", oneOf(pick(List.of("\"default\"", "\"other\"")), text()), 15),
            field("onTaskFailure", oneOf(pick(List.of("\"fail\"", "\"continue\"")), text()), 10),
            field("colour", value(1), 3)));
  }

  private Gen<String> patchBody() {
    return fields(
        List.of(
            field("priority", number(), 40),
            field("maxAttempts", number(), 40),
            field("labels", labels(), 50),
            field("status", text(), 5)));
  }

  /** {@code usual} four times in five, else {@code other}. */
  private static Gen<String> mostly(String usual, Gen<String> other) {
    return frequency(Pair.of(4, pick(List.of(usual))), Pair.of(1, other));
  }

  private static Gen<String> ifMatch() {
    return pick(
        List.of(
            "current", "\"999\"", "abc", "none", "\"-1\"", "\"99999999999999999999\"", "W/\"1\""));
  }

  private Gen<String> labels() {
    return lists()
        .of(text().zip(frequency(Pair.of(4, text()), Pair.of(1, value(1))), (k, v) -> k + ":" + v))
        .ofSizeBetween(0, 3)
        .map(pairs -> "{" + String.join(",", pairs) + "}");
  }

  /** A JSON object of the fields that come up, each present with its percentage. */
  private static Gen<String> fields(List<Pair<String, Pair<Integer, Gen<String>>>> fields) {
    Gen<Integer> dice = range(0, 99);
    return in -> {
      List<String> present = new ArrayList<>();
      for (var f : fields) {
        if (dice.generate(in) < f._2._1) {
          present.add("\"" + f._1 + "\":" + f._2._2.generate(in));
        }
      }
      return "{" + String.join(",", present) + "}";
    };
  }

  private static Pair<String, Pair<Integer, Gen<String>>> field(
      String name, Gen<String> value, int percent) {
    return Pair.of(name, Pair.of(percent, value));
  }

  private static Gen<String> text() {
    return lists()
        .of(pick(PIECES))
        .ofSizeBetween(0, 4)
        .map(parts -> "\"" + String.join("", parts) + "\"");
  }

  private static Gen<String> number() {
    return pick(NUMBERS);
  }

  private static Gen<String> scalar() {
    return frequency(
        Pair.of(3, text()), Pair.of(2, number()), Pair.of(1, pick(List.of("true", "null"))));
  }

  private static Gen<String> value(int depth) {
    if (depth == 0) {
      return scalar();
    }
    return frequency(
        Pair.of(3, scalar()), Pair.of(1, array(depth - 1)), Pair.of(1, object(depth - 1)));
  }

  private static Gen<String> array(int depth) {
    return lists().of(value(depth)).ofSizeBetween(0, 3).map(v -> "[" + String.join(",", v) + "]");
  }

  private static Gen<String> object(int depth) {
    return lists()
        .of(text().zip(value(depth), (k, v) -> k + ":" + v))
        .ofSizeBetween(0, 3)
        .map(pairs -> "{" + String.join(",", pairs) + "}");
  }

  /** {@code ,<members of o>}} or just {@code }}: o's members appended to an open object. */
  private static String mergeInto(String object) {
    String members = object.substring(1, object.length() - 1);
    return (members.isEmpty() ? "" : "," + members) + "}";
  }

  private String jobPath(String which) {
    return switch (which) {
      case "target" -> target.toString();
      case "random" -> UUID.randomUUID().toString();
      default -> which;
    };
  }

  private String currentVersion() {
    return "\"" + api.job(target).get("version").asLong() + "\"";
  }

  private static String nullIfNone(String ifMatch) {
    return ifMatch.equals("none") ? null : ifMatch;
  }

  private HttpResponse<String> requeue(String job, String seq, String body, String ifMatch) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(stack.api() + "/api/v1/jobs/" + job + "/tasks/" + seq + "/requeue"))
            .header("Authorization", "Bearer " + Stack.TOKEN)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    String version = ifMatch.equals("current") ? currentVersion() : nullIfNone(ifMatch);
    if (version != null) {
      b.header("If-Match", version);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new IllegalStateException("requeue failed", e);
    }
  }

  private static String later() {
    return Instant.now().plus(Duration.ofDays(30)).toString();
  }
}
