package io.sluice.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.TaskContext;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class NoopJobTypeTest {

  @Test
  void aNoopTaskToldToStopBeforeItsDelayEndsDoesNotReportSuccess() throws Exception {
    TaskResult result = new NoopJobType().handler().handle(context(60_000, true));
    assertThat(result).isInstanceOf(TaskResult.Retry.class);
  }

  @Test
  void aNoopTaskThatRanItsDelaySucceeds() throws Exception {
    TaskResult result = new NoopJobType().handler().handle(context(0, false));
    assertThat(result).isInstanceOf(TaskResult.Success.class);
  }

  private static TaskContext context(long delayMs, boolean cancelled) {
    JsonNode input = delayMs == 0 ? Json.object() : Json.object().put("d", delayMs);
    return new TaskContext() {
      @Override
      public UUID jobId() {
        return UUID.randomUUID();
      }

      @Override
      public int seq() {
        return 0;
      }

      @Override
      public JsonNode input() {
        return input;
      }

      @Override
      public int attempt() {
        return 1;
      }

      @Override
      public int maxAttempts() {
        return 3;
      }

      @Override
      public long fenceToken() {
        return 1;
      }

      @Override
      public boolean isCancelled() {
        return cancelled;
      }

      @Override
      public void reportProgress(double fraction) {}
    };
  }
}
