package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

  @Test
  void barShowsFinishedTasksOutOfTotal() {
    String line = new ProgressBar(System.out, false).render(job("RUNNING", 100, 40, 10));
    assertThat(line)
        .startsWith("[################................] 50/100 tasks (10 failed)  50%  RUNNING");
  }

  @Test
  void withoutATerminalOnlyEveryTenthOrStatusChangeIsPrinted() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
    for (int done = 0; done <= 100; done++) {
      bar.update(job("RUNNING", 100, done, 0));
    }
    bar.update(job("SUCCEEDED", 100, 100, 0));
    bar.finish();
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasSize(12); // 0%, 10% ... 100%, then SUCCEEDED
    assertThat(lines[11]).contains("SUCCEEDED");
  }

  @Test
  void aPipelineGetsOneBarPerStageLinedUpByName() {
    List<String> lines = stageLines(false, pipeline("RUNNING", 4, 2, "WAITING", 0, 0));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .startsWith("left  [################................] 2/4 tasks  50%  RUNNING");
    assertThat(lines.get(1))
        .startsWith("total [................................] 0/0 tasks   0%  WAITING");
  }

  @Test
  void withoutATerminalAStagesLineIsPrintedOnlyWhenItsTenthOrStatusChanges() {
    List<String> lines =
        stageLines(
            false,
            pipeline("RUNNING", 4, 0, "WAITING", 0, 0),
            pipeline("RUNNING", 4, 0, "WAITING", 0, 0),
            pipeline("RUNNING", 4, 2, "WAITING", 0, 0),
            pipeline("SUCCEEDED", 4, 4, "RUNNING", 2, 0));
    assertThat(lines).hasSize(5);
    assertThat(lines.get(2)).startsWith("left ").contains("2/4 tasks");
    assertThat(lines.get(3)).startsWith("left ").contains("SUCCEEDED");
    assertThat(lines.get(4)).startsWith("total").contains("RUNNING");
  }

  @Test
  void onATerminalTheStageBarsAreRedrawnInPlace() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
    bar.update(pipeline("RUNNING", 4, 1, "WAITING", 0, 0));
    bar.update(pipeline("RUNNING", 4, 3, "WAITING", 0, 0));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).startsWith("left ").containsOnlyOnce("\033[2F");
    assertThat(text.substring(text.indexOf("\033[2F"))).contains("3/4 tasks");
  }

  private static List<String> stageLines(boolean terminal, JobView... polls) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressBar bar =
        new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal);
    for (JobView poll : polls) {
      bar.update(poll);
    }
    bar.finish();
    return List.of(bytes.toString(StandardCharsets.UTF_8).split("\n"));
  }

  private static JobView pipeline(
      String leftStatus,
      int leftTasks,
      int leftDone,
      String totalStatus,
      int totalTasks,
      int totalDone) {
    JobView job = job("RUNNING", leftTasks + totalTasks, leftDone + totalDone, 0);
    ArrayNode stages = ((ObjectNode) job.json()).putArray("stages");
    stages.add(stage("left", leftStatus, leftTasks, leftDone));
    stages.add(stage("total", totalStatus, totalTasks, totalDone));
    return job;
  }

  private static ObjectNode stage(String name, String status, int tasks, int succeeded) {
    return CliClient.JSON
        .createObjectNode()
        .put("name", name)
        .put("status", status)
        .put("taskCount", tasks)
        .put("tasksSucceeded", succeeded)
        .put("tasksFailed", 0);
  }

  private static JobView job(String status, int tasks, int succeeded, int failed) {
    ObjectNode json =
        CliClient.JSON
            .createObjectNode()
            .put("id", "j1")
            .put("status", status)
            .put("taskCount", tasks)
            .put("tasksSucceeded", succeeded)
            .put("tasksFailed", failed);
    return new JobView(json);
  }
}
