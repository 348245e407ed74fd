package io.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.client.Pipeline.StageSpec;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Submitting a pipeline and reading its stages and tasks, against scripted answers. */
class PipelineClientTest {
  private static final UUID ID = UUID.fromString("00000000-0000-0000-0000-000000000003");
  private static final String JOB =
      """
      {"id": "00000000-0000-0000-0000-000000000003", "status": "RUNNING", "version": 4,
       "stages": [
         {"name": "left", "type": "wordcount", "queue": "default", "status": "SUCCEEDED",
          "dependsOn": [], "taskCount": 3, "tasksSucceeded": 2, "tasksFailed": 1, "progress": 1.0,
          "result": {"totalWords": 7}, "error": null,
          "startedAt": "2024-06-01T10:00:00Z", "finishedAt": "2024-06-01T10:00:05Z"},
         {"name": "total", "type": "merge", "queue": "cpu", "status": "WAITING",
          "dependsOn": ["left", "right"], "taskCount": 0, "tasksSucceeded": 0, "tasksFailed": 0,
          "progress": 0, "result": null, "error": null, "startedAt": null, "finishedAt": null}]}
      """;

  private final Deque<Object> answers = new ArrayDeque<>();
  private final List<String> sent = new ArrayList<>();
  private final SluiceClient client =
      new SluiceClient(
          URI.create("http://coordinator:8080"),
          "token-123456",
          this::answer,
          new RetryOnConflict(3, Duration.ofMillis(10), Duration.ofMillis(40)),
          d -> {},
          SluiceClient.Listener.NONE);

  @Test
  void aPipelineIsSubmittedAsItsStagesWithTheJobsFieldsAndIsRetriedWithAKey() {
    Pipeline pipeline =
        Pipeline.builder()
            .stage(StageSpec.of("left", "wordcount", Json.object().put("counts", true)))
            .stage(StageSpec.of("total", "merge", null, "left", "right").onQueue("cpu"))
            .stage(StageSpec.of("check", "noop", null).withOnTaskFailure("continue"))
            .idempotencyKey("k-1")
            .priority(3)
            .label("team", "search")
            .build();
    answers.add(new IOException("Connection reset"));
    answers.add(reply(200, JOB));

    JobSnapshot job = client.submit(pipeline);

    assertThat(job.id()).isEqualTo(ID);
    assertThat(sent).hasSize(2);
    assertThat(Json.read(sent.get(0).substring(sent.get(0).indexOf(' ', 5) + 1)))
        .isEqualTo(
            Json.read(
                """
                {"stages": [
                   {"name": "left", "type": "wordcount", "payload": {"counts": true}},
                   {"name": "total", "type": "merge", "dependsOn": ["left", "right"],
                    "queue": "cpu"},
                   {"name": "check", "type": "noop", "onTaskFailure": "continue"}],
                 "idempotencyKey": "k-1", "priority": 3, "labels": {"team": "search"}}
                """));
    assertThatThrownBy(() -> Pipeline.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at least one stage");
  }

  @Test
  void aJobsStagesAreReadWithEveryFieldOfTheContract() {
    answers.add(reply(200, JOB));

    JobSnapshot job = client.get(ID);

    assertThat(job.stages()).extracting(StageSnapshot::name).containsExactly("left", "total");
    StageSnapshot left = job.stage("left").orElseThrow();
    assertThat(left.type()).isEqualTo("wordcount");
    assertThat(left.queue()).isEqualTo("default");
    assertThat(left.status()).isEqualTo("SUCCEEDED");
    assertThat(left.terminal()).isTrue();
    assertThat(left.dependsOn()).isEmpty();
    assertThat(left.taskCount()).isEqualTo(3);
    assertThat(left.tasksSucceeded()).isEqualTo(2);
    assertThat(left.tasksFailed()).isEqualTo(1);
    assertThat(left.tasksFinished()).isEqualTo(3);
    assertThat(left.progress()).isEqualTo(1.0);
    assertThat(left.result().path("totalWords").asInt()).isEqualTo(7);
    assertThat(left.error()).isNull();
    assertThat(left.startedAt()).isEqualTo(Instant.parse("2024-06-01T10:00:00Z"));
    assertThat(left.finishedAt()).isEqualTo(Instant.parse("2024-06-01T10:00:05Z"));
    StageSnapshot total = job.stage("total").orElseThrow();
    assertThat(total.dependsOn()).containsExactly("left", "right");
    assertThat(total.terminal()).isFalse();
    assertThat(total.startedAt()).isNull();
    assertThat(job.stage("nope")).isEmpty();
  }

  @Test
  void theTasksOfOneStageAreListedWithStageInTheQueryAndEachNamesItsStage() {
    answers.add(
        reply(
            200,
            """
            {"items": [{"seq": 0, "stage": "left side", "status": "SUCCEEDED", "attempt": 1},
                       {"seq": 1, "status": "QUEUED", "attempt": 0}], "nextCursor": null}
            """));
    answers.add(reply(200, "{\"items\": [], \"nextCursor\": null}"));

    List<TaskSnapshot> tasks = client.tasks(ID, "left side", "SUCCEEDED", "c", 2).tasks();
    client.tasks(ID, null, null, 5);

    assertThat(tasks).extracting(TaskSnapshot::stage).containsExactly("left side", "main");
    assertThat(tasks).extracting(TaskSnapshot::seq).containsExactly(0, 1);
    assertThat(sent)
        .containsExactly(
            "GET /api/v1/jobs/" + ID + "/tasks?stage=left+side&limit=2&status=SUCCEEDED&cursor=c",
            "GET /api/v1/jobs/" + ID + "/tasks?limit=5");
  }

  private SluiceClient.Reply answer(HttpRequest request) throws IOException {
    String uri = request.uri().getRawPath();
    if (request.uri().getRawQuery() != null) {
      uri += "?" + request.uri().getRawQuery();
    }
    sent.add(request.method() + " " + uri + SluiceClientTest.body(request));
    Object next = answers.removeFirst();
    if (next instanceof IOException e) {
      throw e;
    }
    return (SluiceClient.Reply) next;
  }

  private static SluiceClient.Reply reply(int status, String body) {
    return new SluiceClient.Reply(status, body, "\"4\"", null);
  }
}
