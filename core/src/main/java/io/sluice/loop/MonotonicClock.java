package io.sluice.loop;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC clock that never jumps: it reads the wall clock once and then advances with {@link
 * System#nanoTime}. Loops measure stalls, leases and backoff on it, so an NTP step cannot make a
 * healthy loop look stalled or a lease look expired.
 */
public final class MonotonicClock extends Clock {
  private final Instant origin;
  private final long originNanos;

  private MonotonicClock(Instant origin, long originNanos) {
    this.origin = origin;
    this.originNanos = originNanos;
  }

  /** A clock anchored at the current wall-clock time. */
  public static Clock start() {
    return new MonotonicClock(Instant.now(), System.nanoTime());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    if (ZoneOffset.UTC.equals(zone)) {
      return this;
    }
    throw new UnsupportedOperationException("a monotonic clock is UTC only");
  }

  @Override
  public Instant instant() {
    return origin.plusNanos(System.nanoTime() - originNanos);
  }

  @Override
  public long millis() {
    return instant().toEpochMilli();
  }
}
