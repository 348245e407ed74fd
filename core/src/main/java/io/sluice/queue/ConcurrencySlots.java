package io.sluice.queue;

import java.time.Duration;
import java.util.List;

/**
 * Bounded counters in Redis ({@code slots_*.lua}): a slot is bound to a holder (a task's claim) and
 * expires with its lease unless renewed, so a dead worker's slots come back on their own.
 */
public interface ConcurrencySlots extends AutoCloseable {
  /**
   * Takes a slot of every counter for {@code holder}, or none; returns 0 when taken, else the
   * 1-based index of the first counter that is full.
   */
  int tryAcquire(List<String> counters, List<Integer> limits, String holder, Duration ttl);

  /** Extends the holder's live slots by {@code ttl} from now; returns how many it still held. */
  int renew(List<String> counters, String holder, Duration ttl);

  /** Gives the holder's slots back; returns how many were released. */
  int release(List<String> counters, String holder);

  /** The live holders of one counter (expired ones excluded), for tests and metrics. */
  long holders(String counter);

  @Override
  void close();
}
