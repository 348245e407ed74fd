package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConcurrencyLimitsTest {
  @Test
  void limitsAreReadFromNameEqualsLimitPairs() {
    ConcurrencyLimits limits =
        ConcurrencyLimits.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_QUEUE_MAX_CONCURRENCY", "images=4, mail=2",
                    "SLUICE_TYPE_MAX_CONCURRENCY", "wordcount=8")));
    assertThat(limits.forQueue("images")).hasValue(4);
    assertThat(limits.forQueue("mail")).hasValue(2);
    assertThat(limits.forQueue("default")).isEmpty();
    assertThat(limits.forType("wordcount")).hasValue(8);
    assertThat(ConcurrencyLimits.fromEnv(new Env(Map.of())).isEmpty()).isTrue();
  }

  @Test
  void aBadLimitNamesTheSettingAndWhy() {
    assertThatThrownBy(() -> ConcurrencyLimits.parse("SLUICE_QUEUE_MAX_CONCURRENCY", "images=0"))
        .hasMessageContaining("SLUICE_QUEUE_MAX_CONCURRENCY")
        .hasMessageContaining("between 1 and");
    assertThatThrownBy(() -> ConcurrencyLimits.parse("SLUICE_QUEUE_MAX_CONCURRENCY", "images"))
        .hasMessageContaining("name=limit");
    assertThatThrownBy(() -> ConcurrencyLimits.parse("SLUICE_TYPE_MAX_CONCURRENCY", "a=x"))
        .hasMessageContaining("integer");
  }
}
