package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Admission control against fake backlogs: each bound sheds with its reason, and only then. */
class AdmissionControlTest {
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final AtomicLong collect = new AtomicLong();
  private final Map<String, Long> ready = new ConcurrentHashMap<>();
  private final AdmissionControl.Backlogs backlogs =
      new AdmissionControl.Backlogs() {
        @Override
        public long collectBacklog() {
          return collect.get();
        }

        @Override
        public long queuedTasks(String queue) {
          return ready.getOrDefault(queue, 0L);
        }
      };

  private AdmissionControl control(int submitting, int dispatch, int collect, long queued) {
    return new AdmissionControl(
        new AdmissionLimits(submitting, Duration.ZERO, dispatch, collect, queued),
        metrics,
        backlogs);
  }

  @Test
  void theDispatchBacklogIsBoundedFromBeforeTheInsertUntilTheDispatchEnds() {
    AdmissionControl admission = control(10, 2, 100, 100);
    Runnable first;
    try (AdmissionControl.Ticket t = admission.enter("default")) {
      first = t.handOffDispatch();
    }
    try (AdmissionControl.Ticket t = admission.enter("default")) {
      t.handOffDispatch();
    }
    assertThat(admission.dispatchBacklog()).isEqualTo(2);
    assertShed(() -> admission.enter("default"), "dispatch_backlog", 1);

    first.run();
    first.run(); // a second release must not make room that is not there
    assertThat(admission.dispatchBacklog()).isEqualTo(1);
    try (AdmissionControl.Ticket t = admission.enter("default")) {
      assertThat(admission.dispatchBacklog()).isEqualTo(2);
    }
    assertThat(admission.dispatchBacklog())
        .as("a ticket closed without a dispatch (a duplicate, a delayed job) gives its place back")
        .isEqualTo(1);
    assertThat(admission.submissions()).isZero();
  }

  @Test
  void concurrentSubmissionsNeverHoldMorePlacesThanTheBound() throws Exception {
    AdmissionControl admission = control(3, 1000, 100, 100);
    int threads = 32;
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    AtomicInteger shed = new AtomicInteger();
    List<Thread> all = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      all.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int round = 0; round < 200; round++) {
                        try (AdmissionControl.Ticket t = admission.enter("default")) {
                          peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
                          inside.decrementAndGet();
                        } catch (Refusal.Overloaded e) {
                          shed.incrementAndGet();
                        }
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }));
    }
    for (Thread t : all) {
      t.join();
    }
    assertThat(peak.get()).isBetween(1, 3);
    assertThat(admission.submissions()).isZero();
    assertThat(admission.dispatchBacklog()).isZero();
    assertThat(shedCount("submissions_in_progress")).isEqualTo(shed.get());
  }

  @Test
  void sampledBacklogsShedOnlyWhileAtTheirBoundAndOnlyTheirQueue() {
    AdmissionControl admission = control(10, 10, 5, 100);
    admission.enter("images").close();
    admission.enter("mail").close();
    ready.put("images", 100L);
    admission.run();

    assertShed(() -> admission.enter("images"), "queue_backlog", 5);
    admission.enter("mail").close();

    collect.set(5);
    admission.run();
    assertShed(() -> admission.enter("mail"), "collect_backlog", 2);

    collect.set(4);
    ready.remove("images");
    admission.run();
    admission.enter("images").close();
    assertThat(shedCount("queue_backlog")).isEqualTo(1);
    assertThat(shedCount("collect_backlog")).isEqualTo(1);
  }

  @Test
  void aFailedSampleAdmitsOnTheInMemoryBoundsAlone() {
    AdmissionControl admission = control(10, 10, 5, 100);
    collect.set(50);
    admission.run();
    assertShed(() -> admission.enter("default"), "collect_backlog", 2);

    AdmissionControl failing =
        new AdmissionControl(
            new AdmissionLimits(10, Duration.ZERO, 10, 5, 100),
            new SimpleMeterRegistry(),
            new AdmissionControl.Backlogs() {
              @Override
              public long collectBacklog() {
                throw new IllegalStateException("Redis is down");
              }

              @Override
              public long queuedTasks(String queue) {
                throw new IllegalStateException("Redis is down");
              }
            });
    failing.run();
    failing.enter("default").close();
  }

  @Test
  void limitsAreReadFromTheEnvironmentAndCheckedNamingTheVariable() {
    AdmissionLimits defaults = AdmissionLimits.fromEnv(new Env(Map.of()));
    assertThat(defaults).isEqualTo(AdmissionLimits.DEFAULT);
    AdmissionLimits set =
        AdmissionLimits.fromEnv(
            new Env(
                Map.of(
                    "SLUICE_ADMIT_MAX_SUBMITTING", "3",
                    "SLUICE_ADMIT_SUBMIT_WAIT", "0",
                    "SLUICE_ADMIT_MAX_DISPATCH_BACKLOG", "50",
                    "SLUICE_ADMIT_MAX_COLLECT_BACKLOG", "60",
                    "SLUICE_ADMIT_MAX_QUEUED_TASKS", "70")));
    assertThat(set).isEqualTo(new AdmissionLimits(3, Duration.ZERO, 50, 60, 70));
    assertThatThrownBy(
            () ->
                AdmissionLimits.fromEnv(new Env(Map.of("SLUICE_ADMIT_MAX_DISPATCH_BACKLOG", "0"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_ADMIT_MAX_DISPATCH_BACKLOG");
    assertThatThrownBy(() -> new AdmissionLimits(1, Duration.ofMinutes(5), 1, 1, 1))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_ADMIT_SUBMIT_WAIT");
  }

  private void assertShed(Runnable enter, String reason, long retryAfter) {
    assertThatThrownBy(enter::run)
        .isInstanceOfSatisfying(
            Refusal.Overloaded.class,
            shed -> {
              ApiException e = ApiErrors.toApi(shed);
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.retryAfterSeconds()).isEqualTo(retryAfter);
              assertThat(e.body().get("reason").asText()).isEqualTo(reason);
              assertThat(e.body().get("error").asText()).contains("overloaded");
            });
  }

  private double shedCount(String reason) {
    return metrics.counter("sluice_api_shed_total", "reason", reason).count();
  }
}
