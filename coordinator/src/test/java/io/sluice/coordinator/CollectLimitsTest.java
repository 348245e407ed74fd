package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CollectLimitsTest {
  @Test
  void defaultsAreFiveMinutesThreeAttemptsAndFourThreads() {
    CollectLimits limits = CollectLimits.fromEnv(new Env(Map.of()));

    assertThat(limits).isEqualTo(new CollectLimits(Duration.ofMinutes(5), 3, 4));
  }

  @Test
  void theEnvironmentSetsTimeoutAttemptsAndThreads() {
    CollectLimits limits =
        CollectLimits.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_COLLECT_TIMEOUT", "90s",
                    "SLUICE_COLLECT_ATTEMPTS", "5",
                    "SLUICE_COLLECT_THREADS", "2")));

    assertThat(limits).isEqualTo(new CollectLimits(Duration.ofSeconds(90), 5, 2));
  }

  @Test
  void anOutOfRangeValueNamesItsVariable() {
    assertThatThrownBy(() -> new CollectLimits(Duration.ZERO, 3, 4))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_COLLECT_TIMEOUT");
    assertThatThrownBy(() -> new CollectLimits(Duration.ofMinutes(1), 0, 4))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_COLLECT_ATTEMPTS");
    assertThatThrownBy(() -> CollectLimits.fromEnv(new Env(Map.of("SLUICE_COLLECT_THREADS", "0"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_COLLECT_THREADS");
  }
}
