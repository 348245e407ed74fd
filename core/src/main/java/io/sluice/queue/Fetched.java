package io.sluice.queue;

import java.util.List;

/**
 * One queue's part of a {@link QueueProtocol#fetchEach} round.
 *
 * @param deliveries the entries read, the highest band first
 * @param more whether the queue has unread entries left after these
 */
public record Fetched(List<Delivery> deliveries, boolean more) {
  public Fetched {
    deliveries = List.copyOf(deliveries);
  }
}
