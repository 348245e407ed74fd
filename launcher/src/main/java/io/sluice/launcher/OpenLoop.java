package io.sluice.launcher;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * An open-loop load generator: request i is due at {@code t0 + i / rate} whatever happened to the
 * requests before it, and runs on a virtual thread of its own, so a slow server shows up as latency
 * and a backlog rather than as a lower offered rate (the coordinated-omission trap of closed-loop
 * generators). A bound on requests in flight keeps the generator's own memory bounded; a request
 * due while the bound is reached is not sent and counted as {@link #overflowed()}, so the report
 * says when the generator, not the server, limited the load.
 */
final class OpenLoop {
  /** Waits until a {@link System#nanoTime()} instant; a seam for tests. */
  interface Waiter {
    void waitUntil(long nanoTime) throws InterruptedException;
  }

  private final double rate;
  private final Duration duration;
  private final Semaphore inFlight;
  private final LongSupplier clock;
  private final Waiter waiter;
  private final AtomicLong offered = new AtomicLong();
  private final AtomicLong overflowed = new AtomicLong();
  private volatile long startNanos;
  private volatile long endNanos;

  OpenLoop(double rate, Duration duration, int maxInFlight) {
    this(rate, duration, maxInFlight, System::nanoTime, OpenLoop::sleepUntil);
  }

  OpenLoop(double rate, Duration duration, int maxInFlight, LongSupplier clock, Waiter waiter) {
    if (rate <= 0) {
      throw new IllegalArgumentException("rate must be positive: " + rate);
    }
    this.rate = rate;
    this.duration = duration;
    this.inFlight = new Semaphore(maxInFlight);
    this.clock = clock;
    this.waiter = waiter;
  }

  /** How many requests a run of {@code duration} at {@code rate} offers. */
  static long count(double rate, Duration duration) {
    return (long) Math.floor(rate * duration.toNanos() / 1e9);
  }

  /** When request {@code i} is due, in nanoseconds after the start. */
  static long dueOffset(long i, double rate) {
    return Math.round(i * 1e9 / rate);
  }

  /**
   * Offers {@link #count} requests at their due times, each {@code request.accept(i)} on a new
   * virtual thread, and returns once the last was offered (not answered); then {@link
   * #awaitInFlight} waits for the answers.
   */
  void run(IntConsumer request) throws InterruptedException {
    long n = count(rate, duration);
    startNanos = clock.getAsLong();
    for (long i = 0; i < n; i++) {
      waiter.waitUntil(startNanos + dueOffset(i, rate));
      offered.incrementAndGet();
      if (!inFlight.tryAcquire()) {
        overflowed.incrementAndGet();
        continue;
      }
      int index = (int) i;
      Thread.ofVirtual()
          .name("bench-load-", i)
          .start(
              () -> {
                try {
                  request.accept(index);
                } finally {
                  inFlight.release();
                }
              });
    }
    endNanos = clock.getAsLong();
  }

  /** Waits up to {@code timeout} for every request sent to be answered; whether they all were. */
  boolean awaitInFlight(int maxInFlight, Duration timeout) throws InterruptedException {
    if (!inFlight.tryAcquire(maxInFlight, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return false;
    }
    inFlight.release(maxInFlight);
    return true;
  }

  long offered() {
    return offered.get();
  }

  long overflowed() {
    return overflowed.get();
  }

  /**
   * Requests offered per second: the gaps between the first and the last offer, over the time
   * between them (n requests at a fixed rate span n - 1 intervals).
   */
  double offeredRate() {
    long span = endNanos - startNanos;
    long n = offered.get();
    return n < 2 || span <= 0 ? 0 : (n - 1) / (span / 1e9);
  }

  long startNanos() {
    return startNanos;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait = nanoTime - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(Duration.ofNanos(wait));
    }
  }
}
