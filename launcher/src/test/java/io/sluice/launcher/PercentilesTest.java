package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PercentilesTest {

  @Test
  void nearestRankOfOneToAHundredInAnyOrder() {
    double[] values = new double[100];
    for (int i = 0; i < 100; i++) {
      values[i] = 100 - i; // descending: of() must sort
    }
    Percentiles p = Percentiles.of(values);
    assertThat(p.count()).isEqualTo(100);
    assertThat(p.p50()).isEqualTo(50);
    assertThat(p.p95()).isEqualTo(95);
    assertThat(p.p99()).isEqualTo(99);
    assertThat(p.max()).isEqualTo(100);
    assertThat(values[0]).isEqualTo(100); // the caller's array is left alone
  }

  @Test
  void everyPercentileIsAMeasuredValueNeverAnInterpolation() {
    Percentiles p = Percentiles.of(new double[] {1, 2, 3, 1000});
    assertThat(p.p50()).isEqualTo(2);
    assertThat(p.p95()).isEqualTo(1000);
    assertThat(p.p99()).isEqualTo(1000);
    assertThat(Percentiles.of(new double[] {7}).p50()).isEqualTo(7);
  }

  @Test
  void noValuesAreMinusOneAndTheJsonRoundsToATenthOfAMillisecond() {
    assertThat(Percentiles.of(new double[0]).toJson().toString())
        .isEqualTo("{\"n\":0,\"p50_ms\":-1.0,\"p95_ms\":-1.0,\"p99_ms\":-1.0,\"max_ms\":-1.0}");
    assertThat(Percentiles.of(new double[] {1.234, 5.678}).toJson().path("max_ms").asDouble())
        .isEqualTo(5.7);
  }
}
