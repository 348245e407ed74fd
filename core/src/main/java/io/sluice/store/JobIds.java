package io.sluice.store;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * New job ids: UUID version 7 (RFC 9562), the millisecond of their making in the high 48 bits and
 * 74 random bits below. Ids made close in time sort close together, so the inserts and lookups of a
 * stream of jobs touch the right edge of the primary-key indexes of {@code jobs}, {@code tasks} and
 * {@code job_events} instead of a random page each, and no lock is taken to make one ({@link
 * UUID#randomUUID} draws from one shared {@code SecureRandom}). An id is a name, not a secret:
 * every read is scoped to its tenant's token (G9).
 */
public final class JobIds {
  private JobIds() {}

  /** A fresh id for a job or a stage. */
  public static UUID next() {
    return at(System.currentTimeMillis(), ThreadLocalRandom.current());
  }

  static UUID at(long epochMillis, RandomGenerator random) {
    long high = (epochMillis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
    long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(high, low);
  }
}
