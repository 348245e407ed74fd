package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/** Submit → split → dispatch → work → collect, over HTTP, with three workers. */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineIT {
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 3, 16);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void aTenThousandTaskNoopJobSucceedsWithEveryTaskCountedOnce() throws Exception {
    var created = stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":10000}}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(120));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("taskCount").asInt()).isEqualTo(10_000);
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(10_000);
    assertThat(job.get("tasksFailed").asInt()).isZero();
    assertThat(job.get("result").get("succeeded").asLong()).isEqualTo(10_000);
    Awaitility.await("a finished job leaves no keys in Redis")
        .atMost(Duration.ofSeconds(5))
        .until(() -> jobKeys(id).isEmpty());
    try (Connection c = stack.env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FILTER (WHERE status = 'SUCCEEDED'), count(DISTINCT worker_id),"
                        + " (SELECT count(*) FROM job_events WHERE job_id = '"
                        + id
                        + "' AND to_status = 'SUCCEEDED')"
                        + " FROM tasks WHERE job_id = '"
                        + id
                        + "'")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(10_000);
      assertThat(rs.getLong(2)).as("tasks spread over the workers").isGreaterThanOrEqualTo(2);
      assertThat(rs.getLong(3)).as("the job succeeded exactly once").isEqualTo(1);
    }
  }

  @Test
  void wordcountEqualsAnIndependentCount() {
    String text = Corpus.text(3_000, 7);
    Map<String, Long> expected = new HashMap<>();
    for (String word : Pattern.compile("\\P{L}+").split(text.toLowerCase(Locale.ROOT))) {
      if (!word.isEmpty()) {
        expected.merge(word, 1L, Long::sum);
      }
    }
    var body = Json.object().put("type", "wordcount");
    body.putObject("payload").put("text", text).put("linesPerTask", 25);
    var created = stack.submit(Json.write(body));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(60));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("taskCount").asInt()).isEqualTo(120);
    JsonNode result = job.get("result");
    assertThat(result.get("totalWords").asLong())
        .isEqualTo(expected.values().stream().mapToLong(Long::longValue).sum());
    assertThat(result.get("distinctWords").asInt()).isEqualTo(expected.size());
    JsonNode top = result.get("top").get(0);
    assertThat(top.get(1).asLong()).isEqualTo(expected.get(top.get(0).asText()));
    assertThat(top.get(1).asLong())
        .isEqualTo(expected.values().stream().mapToLong(Long::longValue).max().orElseThrow());
  }

  @Test
  void theSameIdempotencyKeyAndBodyNamesTheSameJobAndADifferentBodyConflicts() {
    String body = "{\"type\":\"noop\",\"idempotencyKey\":\"k-1\",\"payload\":{\"tasks\":3}}";
    var first = stack.submit(body);
    var again =
        stack.submit("{\"payload\":{\"tasks\":3},\"idempotencyKey\":\"k-1\",\"type\":\"noop\"}");
    var different =
        stack.submit("{\"type\":\"noop\",\"idempotencyKey\":\"k-1\",\"payload\":{\"tasks\":4}}");

    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(again.statusCode()).isEqualTo(200);
    String id = Json.read(first.body()).get("id").asText();
    assertThat(Json.read(again.body()).get("id").asText()).isEqualTo(id);
    assertThat(different.statusCode()).isEqualTo(409);
    assertThat(Json.read(different.body()).get("jobId").asText()).isEqualTo(id);
  }

  @Test
  void aTaskThatKeepsFailingFailsItsJobAfterMaxAttempts() {
    var created =
        stack.submit(
            "{\"type\":\"flaky\",\"maxAttempts\":3,\"payload\":{\"tasks\":5,\"failSeq\":2,\"failTimes\":100}}");
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(30));

    assertThat(job.get("status").asText()).isEqualTo("FAILED");
    assertThat(job.get("error").asText()).contains("task 2 failed");
    Awaitility.await("a finished job leaves no keys in Redis")
        .atMost(Duration.ofSeconds(5))
        .until(() -> jobKeys(id).isEmpty());
    JsonNode task = firstFailedTask(id);
    assertThat(task.get("seq").asInt()).isEqualTo(2);
    assertThat(task.get("attempt").asInt()).isEqualTo(3);
  }

  @Test
  void aNoopTaskListedInFailFailsItsJobOnItsFirstAttemptWithoutRetry() {
    var created =
        stack.submit(
            "{\"type\":\"noop\",\"maxAttempts\":3,\"payload\":{\"tasks\":4,\"fail\":[2]}}");
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(30));

    assertThat(job.get("status").asText()).isEqualTo("FAILED");
    assertThat(job.get("error").asText()).contains("task 2 failed");
    JsonNode task = firstFailedTask(id);
    assertThat(task.get("seq").asInt()).isEqualTo(2);
    assertThat(task.get("attempt").asInt()).as("failed without retry").isEqualTo(1);
  }

  @Test
  void aTaskThatFailsTwiceThenSucceedsIsRetriedAndTheJobSucceeds() {
    var created =
        stack.submit(
            "{\"type\":\"flaky\",\"maxAttempts\":3,\"payload\":{\"tasks\":5,\"failSeq\":1,\"failTimes\":2}}");
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(30));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(5);
    JsonNode task =
        Json.read(stack.get("/api/v1/jobs/" + id + "/tasks?limit=5").body()).get("items").get(1);
    assertThat(task.get("attempt").asInt()).isEqualTo(3);
  }

  @Test
  void withContinueTheCollectorRunsAndListsTheFailures() {
    var created =
        stack.submit(
            "{\"type\":\"flaky\",\"maxAttempts\":1,\"onTaskFailure\":\"continue\",\"payload\":{\"tasks\":4,\"failSeq\":3,\"failTimes\":9}}");
    String id = Json.read(created.body()).get("id").asText();

    JsonNode job = stack.awaitTerminal(id, Duration.ofSeconds(30));

    assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(3);
    assertThat(job.get("tasksFailed").asInt()).isEqualTo(1);
    assertThat(job.get("result").get("failed").get(0).asInt()).isEqualTo(3);
  }

  private JsonNode firstFailedTask(String jobId) {
    return Json.read(stack.get("/api/v1/jobs/" + jobId + "/tasks?status=FAILED").body())
        .get("items")
        .get(0);
  }

  private Set<String> jobKeys(String jobId) {
    try (var redis = new JedisPooled(URI.create(stack.env.redisUrl()))) {
      return redis.keys(stack.env.redisPrefix() + ":{j:" + jobId + "}:*");
    }
  }
}
