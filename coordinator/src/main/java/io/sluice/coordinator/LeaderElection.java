package io.sluice.coordinator;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.coordinator.redis.RedissonLeaderLock;
import io.sluice.store.Database;
import io.sluice.store.PostgresLeaderStore;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One leader among the coordinators runs the sweeps. A candidate first takes the Redisson lock,
 * then the epoch in PostgreSQL (only once the last leader's lease ran out there); the leader renews
 * both every tick and steps down the moment either fails. Leader-only writes run in {@link #fenced}
 * transactions that check the epoch, so a deposed leader that wakes up late changes nothing.
 */
final class LeaderElection implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);
  private static final long NOT_LEADER = -1;

  private final String nodeId;
  private final Duration lease;
  private final Database db;
  private final RedissonLeaderLock lock;
  private final PostgresLeaderStore store = new PostgresLeaderStore();
  private final AtomicLong epoch = new AtomicLong(NOT_LEADER);
  // Since when this leader has reached PostgreSQL without a break, and when it last did (nanoTime).
  private volatile long contactSince;
  private volatile long lastContact;
  private final io.micrometer.core.instrument.Counter lockWaits;

  LeaderElection(
      String nodeId, Duration lease, Database db, RedissonLeaderLock lock, MeterRegistry metrics) {
    this.nodeId = nodeId;
    this.lease = lease;
    this.db = db;
    this.lock = lock;
    metrics.gauge("sluice_coordinator_leader", epoch, e -> e.get() == NOT_LEADER ? 0 : 1);
    this.lockWaits = metrics.counter("sluice_lock_waits_total", "lock", "leader");
  }

  /** One tick; must always run on the same thread (Redisson locks belong to a thread). */
  @Override
  public void run() {
    try {
      if (epoch.get() == NOT_LEADER) {
        campaign();
      } else {
        renew();
      }
    } catch (RuntimeException e) {
      if (epoch.get() != NOT_LEADER) {
        stepDown("renewal failed: " + e.getMessage());
      } else {
        log.debug("Leader campaign failed: {}", e.toString());
      }
    }
  }

  boolean isLeader() {
    return epoch.get() != NOT_LEADER;
  }

  long epoch() {
    return epoch.get();
  }

  /**
   * How long this coordinator has been leader and reached PostgreSQL at every renewal, without a
   * gap longer than the lease; zero when it is not the leader. Nobody could write a heartbeat while
   * PostgreSQL was unreachable, so silence is judged only over this span.
   */
  Duration unbrokenContact() {
    if (!isLeader()) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(System.nanoTime() - contactSince);
  }

  /** Runs {@code work} in a transaction that holds the leader fence; throws if deposed. */
  <T> T fenced(Database.TxWork<T> work) {
    long current = epoch.get();
    if (current == NOT_LEADER) {
      throw new NotLeaderException(nodeId);
    }
    return db.inTransaction(
        c -> {
          if (!store.holdFence(c, nodeId, current)) {
            throw new NotLeaderException(nodeId);
          }
          return work.run(c);
        });
  }

  private void campaign() {
    Long token = lock.tryAcquire(lease);
    if (token == null) {
      lockWaits.increment();
      return;
    }
    OptionalLong won = db.inTransaction(c -> store.takeOver(c, nodeId, token, lease));
    if (won.isEmpty()) {
      // The previous leader's lease has not run out in PostgreSQL yet (Redis may have lost the
      // lock).
      lock.release();
      return;
    }
    contactSince = lastContact = System.nanoTime();
    epoch.set(won.getAsLong());
    log.info(
        "Coordinator {} is the leader (epoch {}, lock token {})", nodeId, won.getAsLong(), token);
  }

  private void renew() {
    long current = epoch.get();
    Long token = lock.tryAcquire(lease);
    if (token == null) {
      stepDown("the Redis lock is held by another coordinator");
      return;
    }
    if (db.inTransaction(c -> store.renew(c, nodeId, current, lease)).isEmpty()) {
      stepDown("epoch " + current + " was superseded in PostgreSQL");
      return;
    }
    long now = System.nanoTime();
    if (now - lastContact > lease.toNanos()) {
      // The renewal hung past the lease: PostgreSQL was out of reach meanwhile.
      contactSince = now;
    }
    lastContact = now;
  }

  private void stepDown(String why) {
    long old = epoch.getAndSet(NOT_LEADER);
    lock.release();
    log.warn("Coordinator {} is no longer the leader (epoch {}): {}", nodeId, old, why);
  }

  /** Gives up leadership at shutdown so another coordinator takes over at once. */
  void resign() {
    long current = epoch.getAndSet(NOT_LEADER);
    if (current != NOT_LEADER) {
      try {
        db.inTransaction(
            c -> {
              store.resign(c, nodeId, current);
              return null;
            });
      } catch (RuntimeException e) {
        log.debug("Resigning failed; the lease runs out by itself: {}", e.toString());
      }
      lock.release();
    }
  }

  /** Thrown when a leader-only write finds this coordinator deposed. */
  static final class NotLeaderException extends io.sluice.SluiceException {
    NotLeaderException(String nodeId) {
      super("coordinator " + nodeId + " is not the leader; the write was not made");
    }
  }
}
