package io.sluice.health;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.sluice.loop.Backoff;
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
 * The one way a process runs a background loop: each on its own thread, watched. A loop that
 * throws, whose thread dies, or that stops reporting progress for longer than its stall limit is
 * stopped and started again with exponential backoff, behind a circuit breaker that stops
 * restarting a loop that keeps failing until a probe succeeds. Health and metrics read the reported
 * loops' state here; {@link Loop} is the typed handle an owner keeps to stop and join a loop.
 */
public final class LoopSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LoopSupervisor.class);
  private static final Backoff RESTART_BACKOFF =
      Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(30));

  private final Clock clock;
  private final MeterRegistry metrics;
  private final List<Loop> loops = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService watchdog;
  private volatile boolean closed;

  /**
   * A supervisor whose watchdog checks every loop twice a second; stalls and backoff are measured
   * on {@code clock}, which should not jump ({@link io.sluice.loop.MonotonicClock}).
   */
  public LoopSupervisor(Clock clock, MeterRegistry metrics) {
    this(clock, metrics, true);
  }

  /** Without a watchdog thread, tests call {@link #check()} themselves. */
  LoopSupervisor(Clock clock, MeterRegistry metrics, boolean watch) {
    this.clock = clock;
    this.metrics = metrics;
    this.watchdog =
        watch
            ? Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("sluice-watchdog").unstarted(r))
            : null;
    if (watchdog != null) {
      watchdog.scheduleWithFixedDelay(this::check, 500, 500, TimeUnit.MILLISECONDS);
    }
  }

  /** The body of a loop: runs until interrupted or stopped, calling {@link LoopContext#beat()}. */
  @FunctionalInterface
  public interface Body {
    void run(LoopContext self) throws Exception;
  }

  /** Starts the loop {@code spec} describes and returns its handle. */
  public Loop start(LoopSpec spec) {
    Loop loop = new Loop(spec);
    loops.add(loop);
    if (spec.reported()) {
      metrics.gauge(
          "sluice_listener_up", Tags.of("listener", spec.name()), loop, l -> l.alive() ? 1 : 0);
    }
    loop.launch();
    return loop;
  }

  /** The reported loops, for heartbeats and dashboards. */
  public List<Loop> loops() {
    return loops.stream().filter(l -> l.spec.reported()).toList();
  }

  /** True when every reported loop is running and recently made progress. */
  public boolean allAlive() {
    return loops().stream().allMatch(Loop::alive);
  }

  /** One watchdog pass over every loop. */
  void check() {
    for (Loop loop : loops) {
      try {
        loop.checkAndRestart();
      } catch (RuntimeException e) {
        log.error("Watchdog failed on loop {}", loop.name(), e);
      }
    }
  }

  /** One supervised loop: its state for health, and the handle to stop it. */
  public final class Loop implements LoopContext {
    private final LoopSpec spec;
    private final RestartBreaker breaker = new RestartBreaker(clock);
    private final Counter restartCounter;
    private final Backoff.Attempts backoff = RESTART_BACKOFF.attempts();
    private final Object stopSignal = new Object();
    private volatile Thread thread;
    private volatile long lastBeatMillis = clock.millis();
    private volatile Instant since;
    private volatile boolean up = true;
    private volatile String lastError;
    private volatile int restarts;
    private volatile long notBeforeMillis;
    private boolean failureRecorded;
    private volatile boolean retired;
    private volatile boolean stopping;

    private Loop(LoopSpec spec) {
      this.spec = spec;
      this.since = clock.instant();
      this.restartCounter =
          spec.reported()
              ? metrics.counter("sluice_listener_restarts_total", "listener", spec.name())
              : null;
    }

    @Override
    public void beat() {
      lastBeatMillis = clock.millis();
      if (!up) {
        up = true;
        since = clock.instant();
        breaker.succeeded();
        backoff.reset();
      }
    }

    @Override
    public boolean pause(Duration period) throws InterruptedException {
      // Real time, not the injected clock: this is how long the thread sleeps.
      long deadline = System.nanoTime() + period.toNanos();
      synchronized (stopSignal) {
        long left;
        while (!stopping && (left = deadline - System.nanoTime()) > 0) {
          TimeUnit.NANOSECONDS.timedWait(stopSignal, left);
        }
      }
      return !stopping;
    }

    public String name() {
      return spec.name();
    }

    public boolean alive() {
      if (retired) {
        return true;
      }
      Thread t = thread;
      return up && t != null && t.isAlive() && !stalled();
    }

    private boolean stalled() {
      return spec.stallAfter() != null
          && clock.millis() - lastBeatMillis >= spec.stallAfter().toMillis();
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
      lastBeatMillis = clock.millis();
      failureRecorded = false;
      thread =
          Thread.ofPlatform()
              .daemon()
              .name("sluice-" + spec.name())
              .start(
                  () -> {
                    try {
                      spec.body().run(this);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } catch (Exception | Error e) {
                      lastError = e.toString();
                      log.warn(
                          "Loop {} failed; the watchdog restarts it: {}",
                          spec.name(),
                          e.toString());
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

    /**
     * Retires the loop and tells its body to finish the current turn and return: a pause ends at
     * once and the spec's {@code onStop} runs. Does not interrupt, so a turn in progress (a fetch
     * blocked in Redis, a transaction) completes. Returns this loop.
     */
    public Loop stop() {
      retire();
      stopping = true;
      spec.onStop().run();
      synchronized (stopSignal) {
        stopSignal.notifyAll();
      }
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
      boolean stalled =
          spec.stallAfter() != null
              && clock.millis() - lastBeatMillis > spec.stallAfter().toMillis();
      if (!dead && !stalled) {
        return;
      }
      if (up) {
        up = false;
        since = clock.instant();
        log.warn(
            "Loop {} {}; restarting it",
            spec.name(),
            dead ? "died" : "stalled for more than " + spec.stallAfter());
      }
      if (!failureRecorded) {
        // One failure per run of the loop, so a loop that keeps dying opens the breaker.
        breaker.failed();
        failureRecorded = true;
      }
      if (clock.millis() < notBeforeMillis || !breaker.allows()) {
        return;
      }
      if (!dead) {
        t.interrupt();
        try {
          spec.onStall().run();
        } catch (RuntimeException e) {
          log.debug("Releasing stalled loop {} failed: {}", spec.name(), e.toString());
        }
      }
      restarts++;
      if (restartCounter != null) {
        restartCounter.increment();
      }
      notBeforeMillis = clock.millis() + backoff.nextMillis();
      launch();
    }

    private void interrupt() {
      Thread t = thread;
      if (t != null) {
        t.interrupt();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    if (watchdog != null) {
      watchdog.shutdownNow();
    }
    loops.forEach(Loop::interrupt);
  }
}
