package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.loop.MutableClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watchdog's decisions, driven by hand: no watchdog thread, a clock that moves only when told.
 * Bodies run on real threads, so the test waits for what they do, never for time to pass.
 */
class LoopSupervisorTest {
  private final MutableClock clock = MutableClock.start();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final LoopSupervisor supervisor = new LoopSupervisor(clock, metrics, false);

  @AfterEach
  void close() {
    supervisor.close();
  }

  @Test
  void aLoopThatCrashesIsRestartedAtOnceThenOnlyAfterItsBackoff() {
    AtomicInteger runs = new AtomicInteger();
    LoopSupervisor.Loop loop =
        supervisor.start(
            LoopSpec.of(
                    "crashing",
                    self -> {
                      runs.incrementAndGet();
                      throw new IllegalStateException("boom");
                    })
                .stallAfter(Duration.ofSeconds(5)));
    await().until(() -> runs.get() == 1 && !loop.alive());

    supervisor.check();
    await().until(() -> runs.get() == 2 && !loop.alive());
    supervisor.check();
    assertThat(loop.restarts()).as("not within the first backoff of 100 ms").isEqualTo(1);
    clock.advance(Duration.ofMillis(99));
    supervisor.check();
    assertThat(loop.restarts()).isEqualTo(1);

    clock.advance(Duration.ofMillis(1));
    supervisor.check();
    await().until(() -> runs.get() == 3);

    assertThat(loop.restarts()).isEqualTo(2);
    assertThat(loop.lastError()).contains("boom");
    assertThat(
            metrics
                .get("sluice_listener_restarts_total")
                .tag("listener", "crashing")
                .counter()
                .count())
        .isEqualTo(2);
    assertThat(supervisor.allAlive()).isFalse();
  }

  @Test
  void aLoopThatStopsBeatingIsInterruptedReleasedAndRestarted() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch interrupted = new CountDownLatch(1);
    AtomicBoolean released = new AtomicBoolean();
    LoopSupervisor.Loop loop =
        supervisor.start(
            LoopSpec.of(
                    "stuck",
                    self -> {
                      self.beat();
                      if (runs.incrementAndGet() == 1) {
                        try {
                          Thread.sleep(Long.MAX_VALUE);
                        } catch (InterruptedException e) {
                          interrupted.countDown();
                        }
                      }
                      while (true) {
                        self.beat();
                        Thread.sleep(10);
                      }
                    })
                .stallAfter(Duration.ofSeconds(5))
                .onStall(() -> released.set(true)));
    await().until(() -> runs.get() == 1);
    assertThat(loop.alive()).isTrue();

    clock.advance(Duration.ofSeconds(6));
    assertThat(loop.alive()).as("stalled").isFalse();
    supervisor.check();

    assertThat(interrupted.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(released).isTrue();
    await().until(() -> runs.get() == 2 && loop.alive());
    assertThat(loop.restarts()).isEqualTo(1);
    assertThat(supervisor.allAlive()).isTrue();
  }

  @Test
  void aStoppedLoopEndsItsPauseAtOnceAndIsNeverRestarted() throws Exception {
    AtomicInteger turns = new AtomicInteger();
    AtomicBoolean told = new AtomicBoolean();
    CountDownLatch ended = new CountDownLatch(1);
    LoopSupervisor.Body periodic =
        LoopSpec.periodic(Duration.ZERO, Duration.ofHours(1), turns::incrementAndGet);
    LoopSupervisor.Loop loop =
        supervisor.start(
            LoopSpec.of(
                    "periodic",
                    self -> {
                      try {
                        periodic.run(self);
                      } finally {
                        ended.countDown();
                      }
                    })
                .stallAfter(Duration.ofHours(2))
                .onStop(() -> told.set(true)));
    await().until(() -> turns.get() == 1);

    loop.stop();
    assertThat(ended.await(5, TimeUnit.SECONDS)).as("the hour-long pause ended").isTrue();
    clock.advance(Duration.ofHours(3));
    supervisor.check();

    assertThat(told).isTrue();
    assertThat(turns.get()).isEqualTo(1);
    assertThat(loop.restarts()).isZero();
    assertThat(loop.alive()).as("a stopped loop does not fail readiness").isTrue();
  }

  @Test
  void anUnreportedLoopIsRestartedButNeitherCountedForHealthNorListed() {
    AtomicInteger runs = new AtomicInteger();
    LoopSupervisor.Loop loop =
        supervisor.start(
            LoopSpec.every(
                "timer",
                Duration.ZERO,
                Duration.ofMillis(1),
                () -> {
                  runs.incrementAndGet();
                  throw new IllegalStateException("step failed");
                }));
    await().until(() -> runs.get() == 1 && !loop.alive());

    assertThat(supervisor.allAlive()).isTrue();
    assertThat(supervisor.loops()).isEmpty();
    supervisor.check();
    await().until(() -> runs.get() == 2);
    assertThat(loop.restarts()).isEqualTo(1);
    assertThat(metrics.find("sluice_listener_restarts_total").counters()).isEmpty();
  }
}
