package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class IfMatchTest {
  @Test
  void theVersionIsReadAsTheEtagGaveIt() {
    assertThat(IfMatch.parse("\"7\"")).isEqualTo(7);
    assertThat(IfMatch.parse("W/\"7\"")).isEqualTo(7);
    assertThat(IfMatch.parse(" 12 ")).isEqualTo(12);
  }

  @Test
  void anythingElseIsABadRequestNamingTheHeader() {
    for (String bad : new String[] {"*", "\"seven\"", "\"0\"", "\"1\", \"2\""}) {
      assertThatThrownBy(() -> IfMatch.parse(bad))
          .isInstanceOfSatisfying(
              ApiException.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.body().get("field").asText()).isEqualTo("If-Match");
              });
    }
  }

  @Test
  void aTenantsQuotaIsItsOverrideOrTheDefaultAndZeroMeansNone() {
    ApiLimits limits = new ApiLimits(10, 20, 5, Map.of("big", 50, "free", 0));
    assertThat(limits.quotaOf("someone")).isEqualTo(5);
    assertThat(limits.quotaOf("big")).isEqualTo(50);
    assertThat(limits.quotaOf("free")).isNull();
    assertThat(ApiLimits.DEFAULT.quotaOf("someone")).isNull();
  }
}
