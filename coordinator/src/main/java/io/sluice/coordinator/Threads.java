package io.sluice.coordinator;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named daemon threads, so thread dumps and logs say which loop is which. */
final class Threads {
  private Threads() {}

  static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "sluice-" + prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
