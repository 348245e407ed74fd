package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueueRatesTest {
  @Test
  void ratesPerSecondAndPerMinuteAreReadInTheirOrder() {
    QueueRates rates = QueueRates.parse(" mail=10/s, reports=600/m ,default=500/s");

    assertThat(rates.perQueue().keySet()).containsExactly("mail", "reports", "default");
    assertThat(rates.of("mail")).isEqualTo(new QueueRates.Rate(10, Duration.ofSeconds(1)));
    assertThat(rates.of("reports")).isEqualTo(new QueueRates.Rate(600, Duration.ofMinutes(1)));
    assertThat(rates.of("reports").perSecond()).isEqualTo(10.0);
    assertThat(rates.of("other")).as("a queue not named is not limited").isNull();
    assertThat(rates.describe()).isEqualTo("mail=10/s,reports=600/m,default=500/s");
  }

  @Test
  void anUnsetOrBlankSettingLimitsNothing() {
    assertThat(QueueRates.parse(null).perQueue()).isEmpty();
    assertThat(QueueRates.parse("  ").perQueue()).isEmpty();
    assertThat(QueueRates.fromEnv(new Env(Map.of())).perQueue()).isEmpty();
    assertThat(QueueRates.fromEnv(new Env(Map.of("SLUICE_QUEUE_RATE", "a=1/s"))).of("a").count())
        .isEqualTo(1);
  }

  @Test
  void aMalformedItemIsRejectedNamingTheSettingTheValueAndTheItem() {
    for (String bad :
        new String[] {
          "mail",
          "mail=10",
          "mail=10/h",
          "=10/s",
          "mail=ten/s",
          "a b=1/s",
          "mail=10/s,",
          "mail=-1/s"
        }) {
      assertThatThrownBy(() -> QueueRates.parse(bad))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("SLUICE_QUEUE_RATE=" + bad + ": ")
          .hasMessageContaining("is not queue=N/s or queue=N/m");
    }
  }

  @Test
  void aRateOutOfRangeOrAQueueNamedTwiceIsRejectedWithWhy() {
    assertThatThrownBy(() -> QueueRates.parse("mail=0/s"))
        .hasMessage(
            "SLUICE_QUEUE_RATE=mail=0/s: queue mail's rate must be between 1 and 1000000 per period");
    assertThatThrownBy(() -> QueueRates.parse("mail=1000001/m"))
        .hasMessageContaining("between 1 and 1000000");
    assertThatThrownBy(() -> QueueRates.parse("mail=1/s,mail=2/s"))
        .hasMessage("SLUICE_QUEUE_RATE=mail=1/s,mail=2/s: queue mail is named twice");
  }
}
