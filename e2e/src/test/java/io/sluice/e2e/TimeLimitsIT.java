package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.JobSnapshot;
import io.sluice.client.SluiceClient;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code taskTimeout}, {@code deadline} and {@code retry} end to end: a real coordinator and a real
 * worker, over HTTP, against real Redis and PostgreSQL, every time measured on PostgreSQL's clock.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TimeLimitsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private Stack stack;
  private JobApi api;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(TestEnvironment env) {
    TimeoutProbeJobType.db = env::connect;
    stack = new Stack(env, 1, 8);
    api = new JobApi(stack);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void anAttemptThatHonoursItsStopFailsAsTimedOutAndRetriesAfterTheJobsOwnBackoff() {
    UUID id =
        api.create(
            """
            {"type": "timeout-probe", "payload": {"tasks": 1}, "taskTimeout": "300ms",
             "maxAttempts": 2, "retry": {"base": "1s", "max": "1s"}}""");

    JsonNode job = stack.awaitTerminal(id.toString(), WAIT);

    assertThat(job.path("status").asText()).isEqualTo("FAILED");
    assertThat(job.path("error").asText()).isEqualTo("task 0 failed: timed out after 300ms");
    assertThat(job.path("taskTimeout").asText()).isEqualTo("300ms");
    assertThat(job.path("retry").path("base").asText()).isEqualTo("1s");
    for (JsonNode task : api.tasks(id)) {
      int seq = task.path("seq").asInt();
      assertThat(task.path("status").asText()).isEqualTo("FAILED");
      assertThat(task.path("attempt").asInt()).as("retried by maxAttempts").isEqualTo(2);
      assertThat(task.path("error").asText()).isEqualTo("timed out after 300ms");
      assertThat(TimeoutProbeJobType.sawStop(id, seq))
          .as("each attempt was told to stop")
          .containsExactly(1, 2);
      List<Long> starts = TimeoutProbeJobType.starts(id, seq);
      // 300 ms of timeout, then the job's 1 s base with its jitter of 0.5-1.5 (the worker's own
      // base here is 50 ms): at least 800 ms between the claims, by PostgreSQL's clock.
      assertThat(starts.get(1) - starts.get(0)).isBetween(800L, 3_000L);
    }
    assertThat(events(id, "TIMED_OUT"))
        .as("the worker's own timer ended every attempt, not the leader's safety net")
        .isZero();
  }

  @Test
  void aStagesOwnTimeoutStopsItsTasksWhileTheOtherStagesRunWithoutOne() {
    UUID id =
        api.create(
            """
            {"maxAttempts": 1, "stages": [
               {"name": "quick", "type": "noop", "payload": {"tasks": 2}},
               {"name": "slow", "type": "timeout-probe", "payload": {"tasks": 1},
                "dependsOn": ["quick"], "taskTimeout": "300ms"}]}""");

    JsonNode job = stack.awaitTerminal(id.toString(), WAIT);

    assertThat(job.path("status").asText()).isEqualTo("FAILED");
    assertThat(job.path("error").asText()).contains("slow").endsWith("timed out after 300ms");
    JsonNode stages = job.path("stages");
    assertThat(stages.get(0).path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(stages.get(0).path("taskTimeout").isNull()).isTrue();
    assertThat(stages.get(1).path("status").asText()).isEqualTo("FAILED");
  }

  @Test
  void aLateResultOfAnAttemptThatIgnoredItsStopIsFencedAndTheRetryCountsOnce() {
    long zombiesBefore = zombieCommitsRejected();
    UUID id =
        api.create(
            """
            {"type": "timeout-probe", "payload": {"tasks": 3, "ignoreFirst": true},
             "taskTimeout": "3s", "maxAttempts": 3}""");
    await("the leader times out every first attempt and each retry starts")
        .atMost(WAIT)
        .until(() -> allStarted(id, 3, 2));

    TimeoutProbeJobType.releaseLate(id);
    await("the late results reach PostgreSQL")
        .atMost(WAIT)
        .until(
            () ->
                zombieCommitsRejected() - zombiesBefore >= 3
                    || api.count(
                            "SELECT count(*) FROM tasks WHERE job_id = ? AND status <> 'RUNNING'",
                            id)
                        > 0);
    TimeoutProbeJobType.finish(id);
    JsonNode job = stack.awaitTerminal(id.toString(), WAIT);

    assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.path("tasksSucceeded").asInt()).isEqualTo(3);
    assertThat(job.path("tasksFailed").asInt()).isZero();
    for (JsonNode task : api.tasks(id)) {
      assertThat(task.path("attempt").asInt()).isEqualTo(2);
      assertThat(task.path("output").path("attempt").asInt())
          .as("the committed result is the retry's, not the late one's")
          .isEqualTo(2);
    }
    assertThat(events(id, "TIMED_OUT")).isEqualTo(3);
    assertThat(zombieCommitsRejected() - zombiesBefore).isEqualTo(3);
  }

  @Test
  void aJobPastItsDeadlineFailsItsTasksAreCancelledAndNoneStartsAfterwards() {
    UUID id =
        api.create(
            """
            {"type": "probe", "payload": {"tasks": 40, "hold": true}, "deadline": "2s"}""");
    await().atMost(WAIT).until(() -> ProbeJobType.started(id).size() == 8);

    JsonNode job = stack.awaitTerminal(id.toString(), WAIT);

    assertThat(job.path("status").asText()).isEqualTo("FAILED");
    assertThat(job.path("error").asText()).isEqualTo("deadline exceeded");
    assertThat(job.path("deadline").asText()).isEqualTo("2s");
    JobSnapshot read =
        SluiceClient.create(URI.create(stack.api()), Stack.ADMIN_TOKEN, null).get(id);
    assertThat(read.deadline()).as("the Java client reads it").contains("2s");
    assertThat(read.deadlineAt()).isPresent();
    assertThat(read.taskTimeout()).isEmpty();
    await("every running handler is told to stop")
        .atMost(WAIT)
        .until(() -> ProbeJobType.sawCancel(id).size() == 8);
    assertThat(
            api.count(
                """
                SELECT count(*) FROM jobs
                 WHERE id = ? AND finished_at >= deadline_at AND deadline_at = created_at + interval '2s'
                """,
                id))
        .as("failed on PostgreSQL's clock, not before its deadline")
        .isEqualTo(1);
    assertThat(
            api.count("SELECT count(*) FROM tasks WHERE job_id = ? AND status = 'CANCELLED'", id))
        .isEqualTo(40);
    ProbeJobType.release(id);
    UUID after = api.create("{\"type\": \"probe\", \"payload\": {\"tasks\": 8}}");
    stack.awaitTerminal(after.toString(), WAIT);
    assertThat(ProbeJobType.started(id)).as("no task started after the deadline").hasSize(8);
    assertThat(
            api.count(
                "SELECT count(*) FROM job_events WHERE job_id = ? AND to_status = 'FAILED'", id))
        .isEqualTo(1);
  }

  @Test
  void badLimitsAreRefusedNamingTheFieldAndStageAndWriteNothing() {
    List<Long> before = api.footprint();

    HttpResponse<String> timeout =
        stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"taskTimeout\":\"50ms\"}");
    HttpResponse<String> stage =
        stack.submit(
            """
            {"stages": [{"name": "a", "type": "noop", "payload": {"tasks": 1}, "taskTimeout": "x"}]}""");
    HttpResponse<String> retry =
        stack.submit(
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"retry\":{\"base\":\"1m\",\"max\":\"1s\"}}");
    HttpResponse<String> batch =
        stack.post(
            "/api/v1/jobs/batch",
            "application/json",
            Stack.TOKEN,
            """
            {"jobs": [{"type": "noop", "payload": {"tasks": 1}, "deadline": "1h"},
                      {"type": "noop", "payload": {"tasks": 1}, "deadline": "0s"}]}""");

    assertThat(timeout.statusCode()).isEqualTo(400);
    assertThat(field(timeout)).isEqualTo("taskTimeout");
    assertThat(stage.statusCode()).isEqualTo(400);
    assertThat(field(stage)).isEqualTo("stages[0].taskTimeout");
    assertThat(Json.read(stage.body()).path("stage").asText()).isEqualTo("a");
    assertThat(retry.statusCode()).isEqualTo(400);
    assertThat(field(retry)).isEqualTo("retry.max");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(400);
    JsonNode errors = Json.read(batch.body()).path("errors");
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).path("index").asInt()).isEqualTo(1);
    assertThat(errors.get(0).path("field").asText()).isEqualTo("deadline");
    assertThat(api.footprint()).as("nothing was written").isEqualTo(before);
  }

  @Test
  void theSameKeyWithAnotherTimeoutIsAConflictAndAStageShowsItsOwnTimeout() {
    String body =
        """
        {"idempotencyKey": "limits-1", "taskTimeout": "%s", "retry": {"base": "1s", "max": "2s"},
         "stages": [{"name": "a", "type": "noop", "payload": {"tasks": 1}, "taskTimeout": "1m"},
                    {"name": "b", "type": "noop", "payload": {"tasks": 1}, "dependsOn": ["a"]}]}""";
    HttpResponse<String> first = stack.submit(body.formatted("30s"));
    HttpResponse<String> again = stack.submit(body.formatted("30s"));
    HttpResponse<String> other = stack.submit(body.formatted("31s"));

    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(other.statusCode()).isEqualTo(409);
    JsonNode job = Json.read(first.body());
    assertThat(job.path("taskTimeout").asText()).isEqualTo("30s");
    assertThat(job.path("retry").path("max").asText()).isEqualTo("2s");
    JsonNode stages = stack.job(job.path("id").asText()).path("stages");
    assertThat(stages.get(0).path("taskTimeout").asText()).as("its own").isEqualTo("1m");
    assertThat(stages.get(1).path("taskTimeout").asText()).as("the job's").isEqualTo("30s");
    stack.awaitTerminal(job.path("id").asText(), WAIT);
  }

  private static String field(HttpResponse<String> response) {
    return Json.read(response.body()).path("field").asText();
  }

  private boolean allStarted(UUID id, int tasks, int attempts) {
    for (int seq = 0; seq < tasks; seq++) {
      if (TimeoutProbeJobType.starts(id, seq).size() < attempts) {
        return false;
      }
    }
    return true;
  }

  private long events(UUID id, String kind) {
    return api.count("SELECT count(*) FROM job_events WHERE job_id = ? AND kind = ?", id, kind);
  }

  /** The worker's count of completions refused by their fence, from its /metrics. */
  private long zombieCommitsRejected() {
    Worker worker = stack.workers.get(0);
    HttpRequest get =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.port() + "/metrics"))
            .GET()
            .build();
    try {
      String body = http.send(get, HttpResponse.BodyHandlers.ofString()).body();
      return body.lines()
          .filter(l -> l.startsWith("sluice_zombie_commits_rejected_total"))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
          .sum();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
