package io.sluice.coordinator;

import java.time.Duration;

/**
 * The lock that keeps leader candidates from racing (Redisson's fenced lock in production). It is
 * bound to a thread: every call comes from the leader loop's thread.
 */
interface LeaderLock {
  /**
   * Takes or extends the lock for {@code lease}; the fencing token, or null when held elsewhere.
   */
  Long tryAcquire(Duration lease);

  /** Releases the lock if this thread holds it; never throws. */
  void release();
}
