package io.sluice.coordinator;

import io.sluice.store.Database;

/**
 * What leader-only work needs of the election: whether this coordinator leads, its epoch, and
 * transactions that hold the leader fence, so a deposed leader's late write commits nothing.
 */
interface FencedLeader {
  boolean isLeader();

  long epoch();

  /** Runs {@code work} in one transaction holding the fence; throws if this node was deposed. */
  <T> T fenced(Database.TxWork<T> work);
}
