package io.sluice.builtin;

import static io.sluice.builtin.BuiltinRuns.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.TaskContext;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.ArrayList;
import java.util.List;
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

  @Test
  void theTasksListedInFailFailAtOnceWithoutRetryAndTheOthersSucceed() throws Exception {
    NoopJobType noop = new NoopJobType();
    List<JsonNode> inputs = new ArrayList<>();
    noop.splitter().split(payload("{\"tasks\": 4, \"fail\": [1, 3]}"), inputs::add);

    List<TaskResult> results = new ArrayList<>();
    for (JsonNode input : inputs) {
      results.add(noop.handler().handle(context(input, false)));
    }
    assertThat(results.get(0)).isInstanceOf(TaskResult.Success.class);
    assertThat(results.get(1)).isInstanceOf(TaskResult.Fail.class);
    assertThat(results.get(2)).isInstanceOf(TaskResult.Success.class);
    assertThat(results.get(3)).isInstanceOf(TaskResult.Fail.class);
  }

  @Test
  void aFailListOutsideTheTasksOrWithRepeatsOrOfTheWrongTypeIsRejectedNamingTheField() {
    for (String bad :
        List.of(
            "{\"tasks\": 2, \"fail\": [2]}",
            "{\"tasks\": 2, \"fail\": [-1]}",
            "{\"tasks\": 2, \"fail\": [0, 0]}",
            "{\"tasks\": 2, \"fail\": [\"0\"]}",
            "{\"tasks\": 2, \"fail\": 0}")) {
      assertThatThrownBy(() -> new NoopJobType().validate(payload(bad)))
          .as(bad)
          .isInstanceOfSatisfying(
              InvalidPayloadException.class, e -> assertThat(e.field()).isEqualTo("fail"));
    }
  }

  private static TaskContext context(long delayMs, boolean cancelled) {
    return context(delayMs == 0 ? Json.object() : Json.object().put("d", delayMs), cancelled);
  }

  private static TaskContext context(JsonNode input, boolean cancelled) {
    return BuiltinRuns.context(0, input, cancelled);
  }
}
