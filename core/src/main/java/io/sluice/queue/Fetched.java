package io.sluice.queue;

import java.util.List;

/**
 * One queue's part of a {@link QueueProtocol#fetchEach} round.
 *
 * @param deliveries the entries read, the highest band first
 * @param more whether the queue has unread entries left after these
 * @param paused whether the queue is paused (then nothing was read)
 * @param waitMs -1 when the queue has no rate limit; else the ms until its next token, 0 when one
 *     was free for this read
 */
public record Fetched(List<Delivery> deliveries, boolean more, boolean paused, long waitMs) {
  public Fetched {
    deliveries = List.copyOf(deliveries);
  }

  /** A read of a queue without pause or rate limit. */
  public Fetched(List<Delivery> deliveries, boolean more) {
    this(deliveries, more, false, -1);
  }

  /** Whether the queue has a rate limit; its entries are then read only through fetch.lua. */
  public boolean rated() {
    return waitMs >= 0;
  }
}
