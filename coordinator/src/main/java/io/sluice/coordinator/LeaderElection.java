package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.SluiceException;
import io.sluice.health.LoopContext;
import io.sluice.health.LoopSupervisor;
import io.sluice.store.Database;
import java.time.Clock;
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
final class LeaderElection implements LoopSupervisor.Body, FencedLeader {
  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);
  private static final long NOT_LEADER = -1;

  private final String nodeId;
  private final Duration lease;
  private final LeaderStore store;
  private final LeaderLock lock;
  private final Clock clock;
  private final AtomicLong epoch = new AtomicLong(NOT_LEADER);
  // Since when this leader has reached PostgreSQL without a break, and when it last did (millis).
  private volatile long contactSince;
  private volatile long lastContact;
  private final Counter lockWaits;

  LeaderElection(
      String nodeId,
      Duration lease,
      LeaderStore store,
      LeaderLock lock,
      Clock clock,
      MeterRegistry metrics) {
    this.nodeId = nodeId;
    this.lease = lease;
    this.store = store;
    this.lock = lock;
    this.clock = clock;
    metrics.gauge("sluice_coordinator_leader", epoch, e -> e.get() == NOT_LEADER ? 0 : 1);
    this.lockWaits = metrics.counter("sluice_lock_waits_total", "lock", "leader");
  }

  /** How often a candidate campaigns and a leader renews: a fifth of the lease, at least 100 ms. */
  Duration tickPeriod() {
    return Duration.ofMillis(Math.max(100, lease.toMillis() / 5));
  }

  /**
   * The leader loop: ticks until stopped, then resigns. Every lock call happens on this one thread
   * (Redisson locks belong to a thread), resigning included, so the lock is released by its owner.
   */
  @Override
  public void run(LoopContext self) throws InterruptedException {
    try {
      do {
        self.beat();
        tick();
      } while (self.pause(tickPeriod()));
    } finally {
      resign();
    }
  }

  /** One campaign or renewal; always called from the same thread. */
  void tick() {
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

  @Override
  public boolean isLeader() {
    return epoch.get() != NOT_LEADER;
  }

  @Override
  public long epoch() {
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
    return Duration.ofMillis(clock.millis() - contactSince);
  }

  /** Runs {@code work} in a transaction that holds the leader fence; throws if deposed. */
  @Override
  public <T> T fenced(Database.TxWork<T> work) {
    long current = epoch.get();
    if (current == NOT_LEADER) {
      throw new NotLeaderException(nodeId);
    }
    return store.fenced(nodeId, current, work);
  }

  private void campaign() {
    Long token = lock.tryAcquire(lease);
    if (token == null) {
      lockWaits.increment();
      return;
    }
    OptionalLong won = store.takeOver(nodeId, token, lease);
    if (won.isEmpty()) {
      // The previous leader's lease has not run out in PostgreSQL yet (Redis may have lost the
      // lock).
      lock.release();
      return;
    }
    contactSince = lastContact = clock.millis();
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
    if (store.renew(nodeId, current, lease).isEmpty()) {
      stepDown("epoch " + current + " was superseded in PostgreSQL");
      return;
    }
    long now = clock.millis();
    if (now - lastContact > lease.toMillis()) {
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
        store.resign(nodeId, current);
      } catch (RuntimeException e) {
        log.debug("Resigning failed; the lease runs out by itself: {}", e.toString());
      }
      lock.release();
    }
  }

  /** Thrown when a leader-only write finds this coordinator deposed. */
  static final class NotLeaderException extends SluiceException {
    NotLeaderException(String nodeId) {
      super("coordinator " + nodeId + " is not the leader; the write was not made");
    }
  }
}
