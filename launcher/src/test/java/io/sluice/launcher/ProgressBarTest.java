package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
