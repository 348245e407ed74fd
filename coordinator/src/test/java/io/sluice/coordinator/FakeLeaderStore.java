package io.sluice.coordinator;

import io.sluice.store.Database;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * The leader row: a holder, an epoch and a lease that runs out on the given clock. Fenced work runs
 * without a connection, so it must not use one.
 */
final class FakeLeaderStore implements LeaderStore {
  private final Clock clock;
  volatile String holder;
  volatile long epoch;
  volatile Instant expires;
  volatile boolean failing;
  int calls;

  FakeLeaderStore(Clock clock) {
    this.clock = clock;
  }

  private void call() {
    calls++;
    if (failing) {
      throw new IllegalStateException("PostgreSQL is unreachable");
    }
  }

  @Override
  public synchronized OptionalLong takeOver(String nodeId, long lockToken, Duration lease) {
    call();
    if (holder != null && expires != null && clock.instant().isBefore(expires)) {
      return OptionalLong.empty();
    }
    holder = nodeId;
    expires = clock.instant().plus(lease);
    return OptionalLong.of(++epoch);
  }

  @Override
  public synchronized OptionalLong renew(String nodeId, long current, Duration lease) {
    call();
    if (!nodeId.equals(holder) || current != epoch) {
      return OptionalLong.empty();
    }
    expires = clock.instant().plus(lease);
    return OptionalLong.of(epoch);
  }

  @Override
  public synchronized void resign(String nodeId, long current) {
    call();
    if (nodeId.equals(holder) && current == epoch) {
      holder = null;
      expires = null;
    }
  }

  @Override
  public synchronized <T> T fenced(String nodeId, long current, Database.TxWork<T> work) {
    call();
    if (!nodeId.equals(holder) || current != epoch) {
      throw new LeaderElection.NotLeaderException(nodeId);
    }
    try {
      return work.run(null);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
