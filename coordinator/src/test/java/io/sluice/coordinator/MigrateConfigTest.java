package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MigrateConfigTest {
  private static final String URL = "jdbc:postgresql://db:5432/sluice";

  @Test
  void migratesWithTheRuntimeSettingsWhenNoMigrationSettingsAreGiven() {
    MigrateConfig config =
        MigrateConfig.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_DATABASE_URL", URL,
                    "SLUICE_DATABASE_USER", "app",
                    "SLUICE_DATABASE_PASSWORD", "pw")));

    assertThat(config.database().jdbcUrl()).isEqualTo(URL);
    assertThat(config.database().user()).isEqualTo("app");
    assertThat(config.database().password()).isEqualTo("pw");
  }

  @Test
  void eachMigrationSettingOverridesItsRuntimeCounterpart() {
    MigrateConfig config =
        MigrateConfig.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_DATABASE_URL", URL,
                    "SLUICE_DATABASE_USER", "app",
                    "SLUICE_DATABASE_PASSWORD", "pw",
                    "SLUICE_MIGRATE_DATABASE_USER", "owner",
                    "SLUICE_MIGRATE_DATABASE_PASSWORD", "owner-pw")));

    assertThat(config.database().jdbcUrl()).isEqualTo(URL);
    assertThat(config.database().user()).isEqualTo("owner");
    assertThat(config.database().password()).isEqualTo("owner-pw");
  }

  @Test
  void aMissingOrWrongUrlIsNamedByTheVariableThatWasRead() {
    assertThatThrownBy(() -> MigrateConfig.fromEnv(new Env(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("SLUICE_DATABASE_URL: is not set");
    assertThatThrownBy(
            () ->
                MigrateConfig.fromEnv(
                    new Env(Map.of("SLUICE_MIGRATE_DATABASE_URL", "postgres://db/sluice"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("SLUICE_MIGRATE_DATABASE_URL=postgres://db/sluice: must be a JDBC");
  }

  @Test
  void coordinatorsMigrateUnlessSluiceMigrateIsFalse() {
    Map<String, String> required =
        Map.of(
            "SLUICE_DATABASE_URL", URL,
            "SLUICE_REDIS_URL", "redis://redis:6379",
            "SLUICE_API_TOKENS", "team:token-0123456789");
    assertThat(CoordinatorConfig.fromEnv(new Env(required)).migrate()).isTrue();

    Map<String, String> noDdl = new HashMap<>(required);
    noDdl.put("SLUICE_MIGRATE", "false");
    assertThat(CoordinatorConfig.fromEnv(new Env(noDdl)).migrate()).isFalse();
  }
}
