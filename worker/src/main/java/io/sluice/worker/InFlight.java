package io.sluice.worker;

import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import java.util.Collection;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The claims this worker holds, from claim until their completion is committed (or handed back),
 * keyed by the claim with its epoch so that a late commit of one claim never removes a newer claim
 * of the same task. At most {@code capacity} are held: the fetch loop reserves room before it
 * fetches, and room comes back only when a claim leaves, so a writer that falls behind stops
 * fetching instead of growing an unbounded backlog.
 */
final class InFlight {
  /** One claim: a task and the lease epoch it was claimed at. */
  record Key(UUID jobId, int seq, long epoch) {
    static Key of(ClaimedTask claim) {
      return new Key(claim.jobId(), claim.seq(), claim.leaseEpoch());
    }

    static Key of(Completion completion) {
      return new Key(completion.jobId(), completion.seq(), completion.leaseEpoch());
    }
  }

  private final ConcurrentHashMap<Key, RunningTask> tasks = new ConcurrentHashMap<>();
  private final int capacity;
  private final Semaphore room;

  /** Unbounded: for tests that add claims without reserving room. */
  InFlight() {
    this.capacity = Integer.MAX_VALUE;
    this.room = null;
  }

  InFlight(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
    this.room = new Semaphore(capacity);
  }

  /**
   * Waits up to {@code timeoutMs} for room for one claim, then takes room for up to {@code max};
   * returns how many may be claimed (0 when full). Room not used is given back with {@link
   * #unreserve}; room used by {@link #add} comes back when the claim is removed.
   */
  int reserve(int max, long timeoutMs) throws InterruptedException {
    if (room == null) {
      return max;
    }
    if (max < 1 || !room.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
      return 0;
    }
    int drained = room.drainPermits();
    int extra = Math.min(max - 1, drained);
    room.release(drained - extra);
    return 1 + extra;
  }

  void unreserve(int n) {
    if (room != null && n > 0) {
      room.release(n);
    }
  }

  /** Adds a claim into room reserved for it. */
  void add(RunningTask task) {
    tasks.put(Key.of(task.claim), task);
  }

  /** Removes the claim; returns whether this call removed it (and so gave its room back). */
  boolean remove(Key key) {
    boolean removed = tasks.remove(key) != null;
    if (removed && room != null) {
      room.release();
    }
    return removed;
  }

  boolean remove(RunningTask task) {
    return remove(Key.of(task.claim));
  }

  RunningTask get(Key key) {
    return tasks.get(key);
  }

  Collection<RunningTask> all() {
    return tasks.values();
  }

  int size() {
    return tasks.size();
  }

  int capacity() {
    return capacity;
  }
}
