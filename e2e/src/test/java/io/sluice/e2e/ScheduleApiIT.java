package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.e2e.ScheduleCalls.FireRow;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Schedules over real HTTP with a real coordinator and worker: each fire time gets one job, the
 * overlap policies with a job slower than the period, catch-up after the coordinators were down,
 * every rejected body and If-Match error, and tenant isolation.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleApiIT {
  private static final String A = Stack.TOKEN;
  private static final String B = "tenant-b-token-0123456789";
  private static final String ADMIN = Stack.ADMIN_TOKEN;
  private static final Duration WAIT = Duration.ofSeconds(20);

  private Stack stack;
  private ScheduleCalls api;

  @BeforeAll
  void start(TestEnvironment env) {
    stack =
        new Stack(
            env, 1, 4, c -> c.withTokens(ApiTokens.parse("tenant-a:" + A + ",tenant-b:" + B)));
    api = new ScheduleCalls(stack::api);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  private static String body(String name, String timing, String overlap, int delayMs) {
    return """
        {"name":"%s",%s,"overlap":"%s",
         "job":{"type":"noop","payload":{"tasks":1,"taskDelayMs":%d}}}
        """
        .formatted(name, timing, overlap, delayMs);
  }

  private List<FireRow> fires(String tenant, String name) throws Exception {
    try (Connection c = stack.env.connect()) {
      return ScheduleCalls.fires(c, tenant, name);
    }
  }

  private JsonNode schedule(String token, String name) {
    return Json.read(api.get(token, "/api/v1/schedules/" + name).body());
  }

  @Test
  void aScheduleEverySecondSubmitsExactlyOneJobPerFireTime() throws Exception {
    JsonNode created = api.created(A, body("every-second", "\"every\":\"1s\"", "allow", 0));
    assertThat(created.get("every").asText()).isEqualTo("1s");
    assertThat(created.get("version").asLong()).isEqualTo(1);

    Awaitility.await().atMost(WAIT).until(() -> fires("tenant-a", "every-second").size() >= 5);
    api.pause(A, "every-second");

    List<FireRow> fires = fires("tenant-a", "every-second");
    assertThat(fires).allSatisfy(f -> assertThat(f.outcome()).isEqualTo("submitted"));
    assertThat(fires).extracting(FireRow::jobKey).doesNotHaveDuplicates().doesNotContainNull();
    for (int i = 1; i < fires.size(); i++) {
      assertThat(Duration.between(fires.get(i - 1).fireTime(), fires.get(i).fireTime()))
          .as("consecutive fire times")
          .isEqualTo(Duration.ofSeconds(1));
    }
    try (Connection c = stack.env.connect()) {
      assertThat(ScheduleCalls.jobsOf(c, "tenant-a", "every-second")).isEqualTo(fires.size());
    }
    JsonNode paused = schedule(A, "every-second");
    assertThat(paused.get("fires").asLong()).isEqualTo(fires.size());
    assertThat(paused.get("lastJobId").asText()).isEqualTo(fires.getLast().jobId());
    assertThat(stack.awaitTerminal(fires.getLast().jobId(), WAIT).get("status").asText())
        .isEqualTo("SUCCEEDED");
  }

  @Test
  void overlapSkipRecordsSkippedFiresWhileThePreviousJobRuns() throws Exception {
    api.created(A, body("skip-slow", "\"cron\":\"* * * * * *\"", "skip", 2500));

    Awaitility.await()
        .atMost(WAIT)
        .until(() -> schedule(A, "skip-slow").get("skipped").asLong() >= 2);
    api.pause(A, "skip-slow");

    List<FireRow> fires = fires("tenant-a", "skip-slow");
    assertThat(fires.getFirst().outcome()).isEqualTo("submitted");
    assertThat(fires).filteredOn(f -> f.outcome().equals("skipped")).hasSizeGreaterThanOrEqualTo(2);
    try (Connection c = stack.env.connect();
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM jobs j JOIN schedule_fires f ON f.job_id = j.id"
                        + " JOIN schedules s ON s.id = f.schedule_id WHERE s.name = 'skip-slow'"
                        + " AND j.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')")) {
      rs.next();
      assertThat(rs.getInt(1)).as("unfinished jobs of the schedule at once").isLessThanOrEqualTo(1);
    }
  }

  @Test
  void overlapAllowRunsJobsSideBySideAndCancelPreviousCancelsTheRunningOne() throws Exception {
    api.created(A, body("allow-slow", "\"every\":\"1s\"", "allow", 3000));
    api.created(A, body("cancel-slow", "\"every\":\"1s\"", "cancelPrevious", 3000));

    Awaitility.await()
        .atMost(WAIT)
        .until(
            () ->
                fires("tenant-a", "cancel-slow").size() >= 3
                    && fires("tenant-a", "allow-slow").size() >= 3);
    api.pause(A, "allow-slow");
    api.pause(A, "cancel-slow");

    List<FireRow> allowed = fires("tenant-a", "allow-slow");
    List<FireRow> cancelling = fires("tenant-a", "cancel-slow");
    assertThat(allowed).allSatisfy(f -> assertThat(f.outcome()).isEqualTo("submitted"));
    assertThat(cancelling).allSatisfy(f -> assertThat(f.outcome()).isEqualTo("submitted"));
    assertThat(stack.job(allowed.get(1).jobId()).get("status").asText())
        .as("the second job started while the first ran")
        .isNotEqualTo("CANCELLED");
    for (FireRow f : cancelling.subList(0, cancelling.size() - 1)) {
      assertThat(stack.awaitTerminal(f.jobId(), WAIT).get("status").asText())
          .as("job of %s, followed by the next fire", f.fireTime())
          .isEqualTo("CANCELLED");
    }
  }

  @Test
  void afterTheCoordinatorsWereDownCatchUpOneFiresOnceAndNoneFiresNothing() throws Exception {
    api.created(A, body("catch-none", "\"every\":\"10s\",\"catchUp\":\"none\"", "allow", 0));
    api.created(A, body("catch-one", "\"every\":\"10s\",\"catchUp\":\"one\"", "allow", 0));
    try (Connection c = stack.env.connect()) {
      // As if every coordinator had been down for 35 s: three or four fire times were missed.
      c.createStatement()
          .executeUpdate(
              "UPDATE schedules SET next_fire_at = now() - interval '35 seconds'"
                  + " WHERE name IN ('catch-none', 'catch-one')");
    }
    Instant now = Instant.now();

    Awaitility.await()
        .atMost(WAIT)
        .until(
            () ->
                Instant.parse(schedule(A, "catch-none").get("nextFireAt").asText()).isAfter(now)
                    && schedule(A, "catch-one").get("fires").asLong() == 1);

    assertThat(fires("tenant-a", "catch-none")).isEmpty();
    List<FireRow> one = fires("tenant-a", "catch-one");
    assertThat(one).hasSize(1);
    assertThat(one.getFirst().fireTime()).isBefore(now);
    assertThat(Instant.parse(schedule(A, "catch-one").get("nextFireAt").asText())).isAfter(now);
  }

  @Test
  void everyRejectedBodyNamesItsFieldAndStoresNothing() throws Exception {
    String job = "\"job\":{\"type\":\"noop\",\"payload\":{\"tasks\":1}}";
    String[][] cases = {
      {"{\"cron\":\"* * * * *\"," + job + "}", "name"},
      {"{\"name\":\"bad name!\",\"cron\":\"* * * * *\"," + job + "}", "name"},
      {"{\"name\":\"x\"," + job + "}", "cron"},
      {"{\"name\":\"x\",\"cron\":\"* * * * *\",\"every\":\"1s\"," + job + "}", "cron"},
      {"{\"name\":\"x\",\"cron\":\"61 * * * *\"," + job + "}", "cron"},
      {"{\"name\":\"x\",\"cron\":\"* * *\"," + job + "}", "cron"},
      {"{\"name\":\"x\",\"every\":\"500ms\"," + job + "}", "every"},
      {"{\"name\":\"x\",\"every\":\"soon\"," + job + "}", "every"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"timezone\":\"Mars/Olympus\"," + job + "}", "timezone"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"overlap\":\"queue\"," + job + "}", "overlap"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"catchUp\":\"all\"," + job + "}", "catchUp"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"paused\":\"yes\"," + job + "}", "paused"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"color\":1," + job + "}", "color"},
      {"{\"name\":\"x\",\"every\":\"1s\"}", "job"},
      {"{\"name\":\"x\",\"every\":\"1s\",\"job\":{\"type\":\"nope\",\"payload\":{}}}", "job.type"},
      {
        "{\"name\":\"x\",\"every\":\"1s\",\"job\":{\"type\":\"noop\",\"payload\":{}}}",
        "job.payload.tasks"
      },
      {
        "{\"name\":\"x\",\"every\":\"1s\",\"job\":{\"type\":\"noop\",\"payload\":{\"tasks\":1},"
            + "\"idempotencyKey\":\"k\"}}",
        "job.idempotencyKey"
      },
      {
        "{\"name\":\"x\",\"every\":\"1s\",\"job\":{\"stages\":[{\"name\":\"a\",\"type\":\"noop\","
            + "\"payload\":{\"tasks\":1},\"dependsOn\":[\"zz\"]}]}}",
        "job.stages"
      },
    };
    long before = count("SELECT count(*) FROM schedules");
    for (String[] c : cases) {
      HttpResponse<String> r = api.create(A, c[0]);
      assertThat(r.statusCode()).as(c[0] + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.read(r.body()).path("field").asText()).as(r.body()).startsWith(c[1]);
    }
    assertThat(count("SELECT count(*) FROM schedules")).isEqualTo(before);
  }

  @Test
  void theSameNameTwiceIsAConflictAndAPatchNeedsTheCurrentVersion() throws Exception {
    String body = body("versioned", "\"cron\":\"0 3 * * *\"", "skip", 0);
    api.created(A, body);
    HttpResponse<String> again = api.create(A, body);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(409);

    HttpResponse<String> noIfMatch = api.patch(A, "versioned", null, "{\"overlap\":\"allow\"}");
    HttpResponse<String> changed = api.patch(A, "versioned", "\"1\"", "{\"cron\":\"0 4 * * *\"}");
    HttpResponse<String> stale = api.patch(A, "versioned", "\"1\"", "{\"overlap\":\"allow\"}");
    HttpResponse<String> unchangeable =
        api.patch(A, "versioned", "\"2\"", "{\"timezone\":\"UTC\"}");
    HttpResponse<String> missing = api.patch(A, "no-such", "\"1\"", "{\"paused\":true}");

    assertThat(noIfMatch.statusCode()).isEqualTo(428);
    assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
    assertThat(Json.read(changed.body()).get("cron").asText()).isEqualTo("0 4 * * *");
    assertThat(changed.headers().firstValue("ETag")).hasValue("\"2\"");
    assertThat(stale.statusCode()).isEqualTo(409);
    assertThat(Json.read(stale.body()).get("currentVersion").asLong()).isEqualTo(2);
    assertThat(unchangeable.statusCode()).isEqualTo(400);
    assertThat(Json.read(unchangeable.body()).get("field").asText()).isEqualTo("timezone");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(schedule(A, "versioned").get("overlap").asText()).isEqualTo("skip");
  }

  @Test
  void aTenantSeesAndChangesOnlyItsOwnSchedulesAndAnAdminSeesAll() {
    api.created(A, body("private-a", "\"cron\":\"0 5 * * *\"", "skip", 0));
    api.created(B, body("private-a", "\"cron\":\"0 6 * * *\"", "skip", 0));
    api.created(B, body("only-b", "\"cron\":\"0 6 * * *\"", "skip", 0));

    assertThat(api.get(A, "/api/v1/schedules/only-b").statusCode()).isEqualTo(404);
    assertThat(api.patch(A, "only-b", "\"1\"", "{\"paused\":true}").statusCode()).isEqualTo(404);
    assertThat(api.delete(A, "only-b").statusCode()).isEqualTo(404);
    assertThat(schedule(A, "private-a").get("cron").asText()).isEqualTo("0 5 * * *");
    assertThat(schedule(B, "private-a").get("cron").asText()).isEqualTo("0 6 * * *");
    JsonNode listOfA = Json.read(api.get(A, "/api/v1/schedules?limit=1000").body());
    assertThat(listOfA.get("items").findValuesAsText("tenant")).containsOnly("tenant-a");
    JsonNode all = Json.read(api.get(ADMIN, "/api/v1/schedules?limit=1000").body());
    assertThat(all.get("items").findValuesAsText("tenant")).contains("tenant-a", "tenant-b");
    assertThat(schedule(ADMIN, "only-b?tenant=tenant-b").get("tenant").asText())
        .isEqualTo("tenant-b");

    assertThat(api.delete(B, "only-b").statusCode()).isEqualTo(204);
    assertThat(api.get(B, "/api/v1/schedules/only-b").statusCode()).isEqualTo(404);
    assertThat(api.get(null, "/api/v1/schedules").statusCode()).isEqualTo(401);
  }

  private long count(String sql) throws Exception {
    try (Connection c = stack.env.connect();
        var rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
