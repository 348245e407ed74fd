package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetentionConfigTest {
  @Test
  void defaultsAreSevenDaysARunAMinuteFiveHundredJobsAndFiveThousandRows() {
    RetentionConfig config = RetentionConfig.fromEnv(new Env(Map.of()));

    assertThat(config)
        .isEqualTo(new RetentionConfig(Duration.ofDays(7), Duration.ofMinutes(1), 500, 5000));
    assertThat(config.enabled()).isTrue();
  }

  @Test
  void daysHoursAndMinutesAreRetentions() {
    assertThat(RetentionConfig.retention("7d")).isEqualTo(Duration.ofDays(7));
    assertThat(RetentionConfig.retention("36h")).isEqualTo(Duration.ofHours(36));
    assertThat(RetentionConfig.retention("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(RetentionConfig.retention("PT1S")).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void zeroOrOffKeepsJobsForever() {
    assertThat(RetentionConfig.fromEnv(new Env(Map.of("SLUICE_RETENTION", "off"))).enabled())
        .isFalse();
    assertThat(RetentionConfig.fromEnv(new Env(Map.of("SLUICE_RETENTION", "0"))).enabled())
        .isFalse();
  }

  @Test
  void aRetentionThatIsNoDurationNamesTheVariableTheValueAndTheForms() {
    assertThatThrownBy(() -> RetentionConfig.fromEnv(new Env(Map.of("SLUICE_RETENTION", "week"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_RETENTION=week")
        .hasMessageContaining("7d, 36h or 10m, or 0/off");
    assertThatThrownBy(() -> RetentionConfig.retention("-5m"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_RETENTION=-5m");
  }

  @Test
  void outOfRangeBatchesAndIntervalsNameTheirVariable() {
    assertThatThrownBy(
            () -> RetentionConfig.fromEnv(new Env(Map.of("SLUICE_RETENTION_BATCH_ROWS", "10"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_RETENTION_BATCH_ROWS");
    assertThatThrownBy(() -> RetentionConfig.DEFAULT.withBatches(0, 5000))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_RETENTION_BATCH_JOBS");
    assertThatThrownBy(() -> RetentionConfig.DEFAULT.withInterval(Duration.ZERO))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_RETENTION_INTERVAL");
  }
}
