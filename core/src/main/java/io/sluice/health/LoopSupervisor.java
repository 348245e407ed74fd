package io.sluice.health;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each long-running loop of a process on its own thread and watches it: a loop that throws,
 * whose thread dies, or that stops reporting progress for longer than its stall limit is stopped
 * and started again with exponential backoff, behind a circuit breaker that stops restarting a loop
 * that keeps failing until a probe succeeds. Health and metrics read the loops' state here.
 */
public final class LoopSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LoopSupervisor.class);

  private final Clock clock;
  private final MeterRegistry metrics;
  private final List<Loop> loops = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("sluice-watchdog").unstarted(r));
  private volatile boolean closed;

  public LoopSupervisor(Clock clock, MeterRegistry metrics) {
    this.clock = clock;
    this.metrics = metrics;
    watchdog.scheduleWithFixedDelay(this::check, 500, 500, TimeUnit.MILLISECONDS);
  }

  /** The body of a loop: runs until interrupted, calling {@link Loop#beat()} on every iteration. */
  @FunctionalInterface
  public interface Body {
    void run(Loop self) throws Exception;
  }

  /**
   * Starts a supervised loop. {@code onStall} releases what a stuck body blocks on (a connection).
   */
  public Loop start(String name, Duration stallAfter, Body body, Runnable onStall) {
    Loop loop = new Loop(name, stallAfter, body, onStall);
    loops.add(loop);
    metrics.gauge(
        "sluice_listener_up",
        io.micrometer.core.instrument.Tags.of("listener", name),
        loop,
        l -> l.alive() ? 1 : 0);
    loop.launch();
    return loop;
  }

  public List<Loop> loops() {
    return List.copyOf(loops);
  }

  /** True when every loop is running and recently made progress. */
  public boolean allAlive() {
    return loops.stream().allMatch(Loop::alive);
  }

  private void check() {
    for (Loop loop : loops) {
      try {
        loop.checkAndRestart();
      } catch (RuntimeException e) {
        log.error("Watchdog failed on loop {}", loop.name, e);
      }
    }
  }

  /** One supervised loop. */
  public final class Loop {
    private final String name;
    private final Duration stallAfter;
    private final Body body;
    private final Runnable onStall;
    private final CircuitBreaker breaker;
    private final io.micrometer.core.instrument.Counter restartCounter;
    private volatile Thread thread;
    private volatile long lastBeatNanos = System.nanoTime();
    private volatile Instant since;
    private volatile boolean up = true;
    private volatile String lastError;
    private volatile int restarts;
    private volatile long notBeforeNanos;
    private int backoffExponent;
    private boolean failureRecorded;
    private volatile boolean retired;

    private Loop(String name, Duration stallAfter, Body body, Runnable onStall) {
      this.name = name;
      this.stallAfter = stallAfter;
      this.body = body;
      this.onStall = onStall;
      this.since = clock.instant();
      this.breaker =
          CircuitBreaker.of(
              "loop-" + name,
              CircuitBreakerConfig.custom()
                  .slidingWindowSize(5)
                  .minimumNumberOfCalls(5)
                  .failureRateThreshold(100)
                  .waitDurationInOpenState(Duration.ofSeconds(30))
                  .build());
      this.restartCounter = metrics.counter("sluice_listener_restarts_total", "listener", name);
    }

    /** Reports progress; a loop that stops calling this is considered stalled. */
    public void beat() {
      lastBeatNanos = System.nanoTime();
      if (!up) {
        up = true;
        since = clock.instant();
        breaker.onSuccess(0, TimeUnit.NANOSECONDS);
        backoffExponent = 0;
      }
    }

    public String name() {
      return name;
    }

    public boolean alive() {
      if (retired) {
        return true;
      }
      Thread t = thread;
      return up
          && t != null
          && t.isAlive()
          && System.nanoTime() - lastBeatNanos < stallAfter.toNanos();
    }

    public Instant since() {
      return since;
    }

    public int restarts() {
      return restarts;
    }

    public String lastError() {
      return lastError;
    }

    private void launch() {
      lastBeatNanos = System.nanoTime();
      failureRecorded = false;
      thread =
          Thread.ofPlatform()
              .daemon()
              .name("sluice-" + name)
              .start(
                  () -> {
                    try {
                      body.run(this);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } catch (Exception | Error e) {
                      lastError = e.toString();
                      log.warn("Loop {} failed; the watchdog restarts it: {}", name, e.toString());
                    }
                  });
    }

    /**
     * Declares that the loop will end on purpose (a drain): the watchdog no longer restarts it.
     * Returns this loop.
     */
    public Loop retire() {
      retired = true;
      return this;
    }

    /** Waits up to {@code timeout} for the loop's current run to end. */
    public void join(Duration timeout) throws InterruptedException {
      Thread t = thread;
      if (t != null) {
        t.join(timeout);
      }
    }

    private synchronized void checkAndRestart() {
      if (closed || retired) {
        return;
      }
      Thread t = thread;
      boolean dead = t == null || !t.isAlive();
      boolean stalled = System.nanoTime() - lastBeatNanos > stallAfter.toNanos();
      if (!dead && !stalled) {
        return;
      }
      if (up) {
        up = false;
        since = clock.instant();
        log.warn(
            "Loop {} {}; restarting it",
            name,
            dead ? "died" : "stalled for more than " + stallAfter);
      }
      if (!failureRecorded) {
        // One failure per run of the loop, so a loop that keeps dying opens the breaker.
        breaker.onError(
            0, TimeUnit.NANOSECONDS, new IllegalStateException(dead ? "died" : "stalled"));
        failureRecorded = true;
      }
      if (System.nanoTime() < notBeforeNanos || !breaker.tryAcquirePermission()) {
        return;
      }
      if (!dead) {
        t.interrupt();
        try {
          onStall.run();
        } catch (RuntimeException e) {
          log.debug("Releasing stalled loop {} failed: {}", name, e.toString());
        }
      }
      restarts++;
      restartCounter.increment();
      long backoffMs = Math.min(30_000, 100L << Math.min(backoffExponent++, 9));
      notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
      launch();
    }

    private void stop() {
      Thread t = thread;
      if (t != null) {
        t.interrupt();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    watchdog.shutdownNow();
    loops.forEach(Loop::stop);
  }
}
