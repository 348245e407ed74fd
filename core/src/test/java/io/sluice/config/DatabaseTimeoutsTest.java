package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseTimeoutsTest {

  @Test
  void theDefaultsBoundEveryCallAndLetTheServerCancelBeforeTheClientGivesUp() {
    DatabaseConfig config =
        DatabaseConfig.fromEnv(new Env(Map.of("SLUICE_DATABASE_URL", "jdbc:postgresql://db/s")), 6);
    DatabaseTimeouts t = config.timeouts();
    assertThat(t).isEqualTo(DatabaseTimeouts.DEFAULTS);
    assertThat(t.connect()).isEqualTo(Duration.ofSeconds(5));
    assertThat(t.statement()).isEqualTo(Duration.ofSeconds(15));
    assertThat(t.socket()).isEqualTo(Duration.ofSeconds(20)).isGreaterThan(t.statement());
    assertThat(t.bulk()).isEqualTo(Duration.ofMinutes(10));
    assertThat(t.bulkSocket()).isGreaterThan(t.bulk());
  }

  @Test
  void eachTimeoutIsReadFromItsOwnVariable() {
    DatabaseTimeouts t =
        DatabaseTimeouts.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_DATABASE_CONNECT_TIMEOUT", "3s",
                    "SLUICE_DATABASE_STATEMENT_TIMEOUT", "500ms",
                    "SLUICE_DATABASE_SOCKET_TIMEOUT", "2s",
                    "SLUICE_DATABASE_BULK_TIMEOUT", "1h")));
    assertThat(t)
        .isEqualTo(
            new DatabaseTimeouts(
                Duration.ofSeconds(3),
                Duration.ofMillis(500),
                Duration.ofSeconds(2),
                Duration.ofHours(1)));
  }

  @Test
  void aSocketTimeoutNotAboveTheStatementTimeoutIsRejectedNamingBoth() {
    assertThatThrownBy(
            () ->
                DatabaseTimeouts.fromEnv(
                    new Env(
                        Map.of(
                            "SLUICE_DATABASE_STATEMENT_TIMEOUT", "30s",
                            "SLUICE_DATABASE_SOCKET_TIMEOUT", "30s"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_DATABASE_SOCKET_TIMEOUT=PT30S")
        .hasMessageContaining("must exceed SLUICE_DATABASE_STATEMENT_TIMEOUT");
  }

  @Test
  void theDriversWholeSecondsRoundUpSoASubSecondMarginIsNotLost() {
    assertThatThrownBy(
            () ->
                new DatabaseTimeouts(
                    Duration.ofSeconds(1),
                    Duration.ofMillis(2_000),
                    Duration.ofMillis(1_500),
                    Duration.ofMinutes(1)))
        .isInstanceOf(ConfigException.class);
    assertThat(DatabaseTimeouts.socketSeconds(Duration.ofMillis(2_001))).isEqualTo(3);
  }

  @Test
  void aBulkAllowanceBelowTheStatementTimeoutIsRejected() {
    assertThatThrownBy(
            () ->
                new DatabaseTimeouts(
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(11),
                    Duration.ofSeconds(5)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_DATABASE_BULK_TIMEOUT");
  }
}
