package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FanoutRunTest {

  @Test
  void percentileIsTheFirstPollThatSawThatShareOfTasksFinished() {
    List<long[]> samples =
        List.of(
            new long[] {20_000_000, 0},
            new long[] {40_000_000, 500},
            new long[] {60_000_000, 950},
            new long[] {80_000_000, 990},
            new long[] {100_000_000, 1000});
    assertThat(FanoutRun.percentile(samples, 1000, 0.50)).isEqualTo(40);
    assertThat(FanoutRun.percentile(samples, 1000, 0.95)).isEqualTo(60);
    assertThat(FanoutRun.percentile(samples, 1000, 0.99)).isEqualTo(80);
    assertThat(FanoutRun.percentile(samples, 1000, 1.0)).isEqualTo(100);
  }

  @Test
  void severalStagesAreAChainOfNoopStagesSharingTheTasks() {
    var one = FanoutRun.request(100, 1);
    var three = FanoutRun.request(100, 3);

    assertThat(one.toString()).isEqualTo("{\"type\":\"noop\",\"payload\":{\"tasks\":100}}");
    assertThat(three.get("stages")).hasSize(3);
    assertThat(three.get("stages").get(0).get("payload").get("tasks").asInt()).isEqualTo(34);
    assertThat(three.get("stages").get(2).get("payload").get("tasks").asInt()).isEqualTo(33);
    assertThat(three.get("stages").get(2).get("dependsOn").toString()).isEqualTo("[\"s1\"]");
    assertThat(three.get("stages").get(0).has("dependsOn")).isFalse();
  }
}
