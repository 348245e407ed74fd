package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import org.junit.jupiter.api.Test;

class DashboardAuthTest {
  @Test
  void noneAndTokenAreAcceptedInAnyCaseAndAnythingElseIsNamedInTheError() {
    assertThat(DashboardAuth.parse("none")).isEqualTo(DashboardAuth.NONE);
    assertThat(DashboardAuth.parse(" Token ")).isEqualTo(DashboardAuth.TOKEN);
    assertThatThrownBy(() -> DashboardAuth.parse("basic"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_DASHBOARD_AUTH")
        .hasMessageContaining("basic");
  }
}
