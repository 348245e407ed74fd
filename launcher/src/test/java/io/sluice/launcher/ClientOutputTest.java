package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientOutputTest {

  @Test
  void aJobIsLabelledLinesWithItsResultOrError() {
    ObjectNode json = job("5f0c", "SUCCEEDED", 4, 3, 1);
    json.putObject("result").put("totalWords", 6);
    String text = ClientOutput.job(new JobView(json));
    assertThat(text)
        .isEqualTo(
            """
            job      5f0c
            type     noop  (queue default)
            status   SUCCEEDED  (version 7)
            tasks    4/4  (1 failed)
            created  2024-06-01T10:00:00Z
            updated  2024-06-01T10:00:05Z
            result   {"totalWords":6}
            """);
    ObjectNode failed = job("5f0d", "FAILED", 1, 0, 1).put("error", "task 0 failed: boom");
    assertThat(ClientOutput.job(new JobView(failed)))
        .contains("error    task 0 failed: boom\n")
        .doesNotContain("result");
  }

  @Test
  void aPipelineShowsOneLinePerStageWithStatusTasksAndDependencies() throws Exception {
    ObjectNode json = job("5f0e", "RUNNING", 6, 3, 1);
    json.set(
        "stages",
        CliClient.JSON.readTree(
            """
            [{"name": "left", "status": "SUCCEEDED", "taskCount": 3, "tasksSucceeded": 3,
              "tasksFailed": 0, "dependsOn": []},
             {"name": "right", "status": "RUNNING", "taskCount": 3, "tasksSucceeded": 0,
              "tasksFailed": 1, "dependsOn": []},
             {"name": "total", "status": "WAITING", "taskCount": 0, "tasksSucceeded": 0,
              "tasksFailed": 0, "dependsOn": ["left", "right"]}]
            """));
    assertThat(ClientOutput.job(new JobView(json)))
        .contains(
            """
            tasks    4/6  (1 failed)
            stages   STAGE  STATUS     TASKS           DEPENDS ON
                     left   SUCCEEDED  3/3             -
                     right  RUNNING    1/3 (1 failed)  -
                     total  WAITING    0/0             left, right
            created\s""");
  }

  @Test
  void aOneStageJobShowsNoStageLines() throws Exception {
    ObjectNode json = job("5f0f", "RUNNING", 2, 1, 0);
    json.set(
        "stages",
        CliClient.JSON.readTree(
            "[{\"name\": \"main\", \"status\": \"RUNNING\", \"taskCount\": 2}]"));
    assertThat(ClientOutput.job(new JobView(json))).doesNotContain("stages", "main");
  }

  @Test
  void jobsAreATableWhoseColumnsLineUp() {
    ArrayNode items = CliClient.JSON.createArrayNode();
    items.add(job("5f0c-long-id", "RUNNING", 125, 38, 2));
    items.add(job("a1", "QUEUED", 3, 0, 0));
    String[] lines = ClientOutput.jobs(items).split("\n");
    assertThat(lines)
        .containsExactly(
            "ID            STATUS   TYPE  QUEUE    TASKS              CREATED",
            "5f0c-long-id  RUNNING  noop  default  40/125 (2 failed)  2024-06-01T10:00:00Z",
            "a1            QUEUED   noop  default  0/3                2024-06-01T10:00:00Z");
    assertThat(ClientOutput.jobs(CliClient.JSON.createArrayNode())).isEqualTo("No jobs.\n");
  }

  @Test
  void workersShowKindStatusHeartbeatAgeRunningTasksAndPort() throws Exception {
    JsonNode items =
        CliClient.JSON.readTree(
            """
            [{"id":"w1","kind":"worker","status":"UP","heartbeatAgeMs":420,"runningTasks":3,
              "info":{"port":8081,"inFlight":3}},
             {"id":"coord-1","kind":"coordinator","status":"DEAD","heartbeatAgeMs":125000,
              "runningTasks":0,"info":{}}]
            """);
    assertThat(ClientOutput.workers(items).split("\n"))
        .containsExactly(
            "ID       KIND         STATUS  HEARTBEAT  RUNNING  PORT",
            "w1       worker       UP      0.4s ago   3        8081",
            "coord-1  coordinator  DEAD    2m05s ago  0        -");
  }

  @Test
  void agesAreShortAndTimesAreToTheSecond() {
    assertThat(
            List.of(0L, 9_999L, 45_000L, 3_599_000L, 7_260_000L, 200_000_000L, -1L).stream()
                .map(ClientOutput::age))
        .containsExactly(
            "0.0s ago", "10.0s ago", "45s ago", "59m59s ago", "2h01m ago", "2d ago", "-");
    assertThat(ClientOutput.time("2024-06-01T10:00:00.123456Z")).isEqualTo("2024-06-01T10:00:00Z");
    assertThat(ClientOutput.time("-")).isEqualTo("-");
  }

  private static ObjectNode job(String id, String status, int tasks, int succeeded, int failed) {
    return CliClient.JSON
        .createObjectNode()
        .put("id", id)
        .put("type", "noop")
        .put("queue", "default")
        .put("status", status)
        .put("version", 7)
        .put("taskCount", tasks)
        .put("tasksSucceeded", succeeded)
        .put("tasksFailed", failed)
        .put("createdAt", "2024-06-01T10:00:00.123Z")
        .put("updatedAt", "2024-06-01T10:00:05Z");
  }
}
