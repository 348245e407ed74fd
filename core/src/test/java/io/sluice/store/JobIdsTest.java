package io.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobIdsTest {
  @Test
  void anIdIsVersion7WithItsMillisecondInTheHighBits() {
    long at = 1_796_000_000_123L;
    UUID id = JobIds.at(at, new SplittableRandom(1));
    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(at);
  }

  @Test
  void idsOfLaterMillisecondsSortAfterEarlierOnesAsPostgreSqlComparesThem() {
    SplittableRandom random = new SplittableRandom(7);
    UUID previous = JobIds.at(1_000, random);
    for (long ms = 1_001; ms < 3_000; ms++) {
      UUID next = JobIds.at(ms, random);
      // PostgreSQL orders uuids by their bytes, unsigned: the text form orders the same way.
      assertThat(next.toString()).isGreaterThan(previous.toString());
      previous = next;
    }
  }

  @Test
  void idsOfOneMillisecondDiffer() {
    Set<UUID> seen = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      seen.add(JobIds.next());
    }
    assertThat(seen).hasSize(100_000);
  }
}
