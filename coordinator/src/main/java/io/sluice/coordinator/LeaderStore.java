package io.sluice.coordinator;

import io.sluice.store.Database;
import io.sluice.store.PostgresLeaderStore;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * Where {@link LeaderElection} keeps the leader epoch, each call one transaction. The PostgreSQL
 * one is the fence that matters; tests give the election a fake.
 */
interface LeaderStore {
  /** The new epoch when the last leader's lease ran out, else empty. */
  OptionalLong takeOver(String nodeId, long lockToken, Duration lease);

  /** The renewed epoch, or empty when {@code epoch} was superseded. */
  OptionalLong renew(String nodeId, long epoch, Duration lease);

  /** Ends {@code epoch}'s lease now, so another candidate takes over at once. */
  void resign(String nodeId, long epoch);

  /**
   * Runs {@code work} in one transaction that first holds the fence of {@code epoch}; throws {@link
   * LeaderElection.NotLeaderException} when the epoch is no longer current.
   */
  <T> T fenced(String nodeId, long epoch, Database.TxWork<T> work);

  /** The leader table of {@code db}. */
  static LeaderStore postgres(Database db) {
    PostgresLeaderStore store = new PostgresLeaderStore();
    return new LeaderStore() {
      @Override
      public OptionalLong takeOver(String nodeId, long lockToken, Duration lease) {
        return db.inTransaction(c -> store.takeOver(c, nodeId, lockToken, lease));
      }

      @Override
      public OptionalLong renew(String nodeId, long epoch, Duration lease) {
        return db.inTransaction(c -> store.renew(c, nodeId, epoch, lease));
      }

      @Override
      public void resign(String nodeId, long epoch) {
        db.inTransaction(
            c -> {
              store.resign(c, nodeId, epoch);
              return null;
            });
      }

      @Override
      public <T> T fenced(String nodeId, long epoch, Database.TxWork<T> work) {
        return db.inTransaction(
            c -> {
              if (!store.holdFence(c, nodeId, epoch)) {
                throw new LeaderElection.NotLeaderException(nodeId);
              }
              return work.run(c);
            });
      }
    };
  }
}
