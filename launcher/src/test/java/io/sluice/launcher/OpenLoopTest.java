package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The schedule on a fake clock: requests are due at fixed intervals whatever their answers do. */
@Timeout(20)
class OpenLoopTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<Long> waitedUntil = new CopyOnWriteArrayList<>();

  private OpenLoop loop(double rate, Duration duration, int maxInFlight) {
    return new OpenLoop(
        rate,
        duration,
        maxInFlight,
        now::get,
        t -> {
          waitedUntil.add(t - 1_000_000_000L);
          now.set(Math.max(now.get(), t));
        });
  }

  @Test
  void requestsAreDueAtFixedIntervalsFromTheStart() {
    assertThat(OpenLoop.count(200, Duration.ofSeconds(10))).isEqualTo(2000);
    assertThat(OpenLoop.count(3, Duration.ofMillis(500))).isEqualTo(1);
    assertThat(OpenLoop.dueOffset(0, 200)).isZero();
    assertThat(OpenLoop.dueOffset(1, 200)).isEqualTo(5_000_000);
    assertThat(OpenLoop.dueOffset(1999, 200)).isEqualTo(9_995_000_000L);
  }

  @Test
  void requestsThatNeverAnswerDoNotSlowTheOfferedRate() throws InterruptedException {
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(500);
    OpenLoop loop = loop(100, Duration.ofSeconds(5), 10_000);

    loop.run(
        i -> {
          started.countDown();
          try {
            never.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });

    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(loop.offered()).isEqualTo(500);
    assertThat(loop.overflowed()).isZero();
    assertThat(waitedUntil).hasSize(500);
    assertThat(waitedUntil.get(499)).isEqualTo(4_990_000_000L);
    assertThat(loop.offeredRate()).isCloseTo(100, offset(0.001));
    assertThat(loop.awaitInFlight(10_000, Duration.ofMillis(10))).isFalse();
    never.countDown();
    assertThat(loop.awaitInFlight(10_000, Duration.ofSeconds(10))).isTrue();
  }

  @Test
  void aRequestDueWhileTheInFlightBoundIsReachedIsCountedNotSentNorDelayed()
      throws InterruptedException {
    CountDownLatch never = new CountDownLatch(1);
    OpenLoop loop = loop(1000, Duration.ofSeconds(1), 10);

    loop.run(
        i -> {
          try {
            never.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });

    assertThat(loop.offered()).isEqualTo(1000);
    assertThat(loop.overflowed()).isEqualTo(990);
    never.countDown();
  }
}
