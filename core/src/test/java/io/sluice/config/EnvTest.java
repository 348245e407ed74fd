package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvTest {
  @Test
  void remembersEveryNameAskedForAndWhichWereRequired() {
    Env env = new Env(Map.of("SLUICE_A", "1", "SLUICE_B", "x"));

    env.intValue("SLUICE_A", 0, 0, 10);
    env.require("SLUICE_B", "a b");
    env.get("SLUICE_UNSET");

    assertThat(env.namesRead()).containsExactly("SLUICE_A", "SLUICE_B", "SLUICE_UNSET");
    assertThat(env.namesRequired()).containsExactly("SLUICE_B");
  }

  @Test
  void booleansAcceptTrueFalseYesNoAndOneZeroAndNameTheVariableOtherwise() {
    Env env = new Env(Map.of("A", "true", "B", "No", "C", "1", "D", "0", "E", "maybe"));

    assertThat(env.bool("A", false)).isTrue();
    assertThat(env.bool("B", true)).isFalse();
    assertThat(env.bool("C", false)).isTrue();
    assertThat(env.bool("D", true)).isFalse();
    assertThat(env.bool("UNSET", true)).isTrue();
    assertThatThrownBy(() -> env.bool("E", true))
        .isInstanceOf(ConfigException.class)
        .hasMessage("E=maybe: must be true or false");
  }
}
