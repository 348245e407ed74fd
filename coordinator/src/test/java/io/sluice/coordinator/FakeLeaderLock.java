package io.sluice.coordinator;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/** Redisson's fenced lock as LeaderElection sees it: one holder, a growing token. */
final class FakeLeaderLock implements LeaderLock {
  volatile String holder;
  long token;
  final Set<String> threads = new HashSet<>();

  @Override
  public synchronized Long tryAcquire(Duration lease) {
    threads.add(Thread.currentThread().getName());
    if (holder != null && !holder.equals("me")) {
      return null;
    }
    holder = "me";
    return ++token;
  }

  @Override
  public synchronized void release() {
    threads.add(Thread.currentThread().getName());
    if ("me".equals(holder)) {
      holder = null;
    }
  }
}
