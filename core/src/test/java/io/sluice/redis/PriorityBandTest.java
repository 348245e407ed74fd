package io.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PriorityBandTest {
  private final RedisKeys keys = new RedisKeys("sluice");

  @Test
  void aJobsPriorityPicksItsBand() {
    assertThat(PriorityBand.of(1000)).isEqualTo(PriorityBand.HIGH);
    assertThat(PriorityBand.of(1)).isEqualTo(PriorityBand.HIGH);
    assertThat(PriorityBand.of(0)).isEqualTo(PriorityBand.NORMAL);
    assertThat(PriorityBand.of(-1)).isEqualTo(PriorityBand.LOW);
  }

  @Test
  void theNormalBandKeepsTheQueuesOwnStreamKey() {
    assertThat(PriorityBand.stream("images", 0)).isEqualTo("images");
    assertThat(keys.readyStream(PriorityBand.stream("images", 0)))
        .isEqualTo("sluice:{q:images}:ready");
  }

  @Test
  void everyBandOfAQueueSharesItsHashTagAndIsListedHighestFirst() {
    assertThat(PriorityBand.streams("images"))
        .containsExactly("images~high", "images", "images~low");
    assertThat(PriorityBand.streams("images").stream().map(keys::readyStream))
        .containsExactly(
            "sluice:{q:images}:ready:high",
            "sluice:{q:images}:ready",
            "sluice:{q:images}:ready:low");
    assertThat(PriorityBand.queueOf("images~low")).isEqualTo("images");
    assertThat(PriorityBand.queueOf("images")).isEqualTo("images");
  }

  @Test
  void boundedCountersShareOneHashTagSoOneScriptCanTakeSeveral() {
    assertThat(keys.queueSlots("images")).isEqualTo("sluice:{limits}:queue:images");
    assertThat(keys.typeSlots("wordcount")).isEqualTo("sluice:{limits}:type:wordcount");
  }
}
