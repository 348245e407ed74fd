package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.NonRetryableException;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import io.sluice.loop.FixedRandom;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.TaskStatus;
import io.sluice.store.TimeLimits;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The one boundary where whatever a handler does becomes a completion: no Redis, no PostgreSQL. */
class TaskRunnerTest {
  private static final UUID JOB = UUID.fromString("00000000-0000-0000-0000-000000000042");

  /** Jitter factor 1: a retry waits exactly base × 2^(attempt-1). */
  private static final RetryPolicy RETRY =
      new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(10), FixedRandom.of(0.5));

  private static RunningTask task(int attempt, int maxAttempts) {
    return new RunningTask(
        new ClaimedTask(JOB, 3, attempt, 17, Json.object(), "fake", maxAttempts), "q", "1-0");
  }

  private static Completion run(TaskHandler handler, RunningTask task) {
    JobType type =
        new JobType() {
          @Override
          public String name() {
            return "fake";
          }

          @Override
          public Splitter splitter() {
            throw new UnsupportedOperationException();
          }

          @Override
          public TaskHandler handler() {
            return handler;
          }

          @Override
          public Collector collector() {
            throw new UnsupportedOperationException();
          }
        };
    TaskRunner runner =
        new TaskRunner(name -> name.equals("fake") ? Optional.of(type) : Optional.empty(), RETRY);
    return runner.run(task);
  }

  @Test
  void aSuccessIsCommittedWithItsOutputUnderTheClaimsFence() {
    Completion c = run(ctx -> TaskResult.success(Json.object().put("n", 1)), task(1, 3));

    assertThat(c).isEqualTo(new Completion(JOB, 3, 17, TaskStatus.SUCCEEDED, "{\"n\":1}", null, 0));
  }

  @Test
  void aThrowingHandlerIsRetriedAfterTheBackoffOfItsAttempt() {
    Completion c =
        run(
            ctx -> {
              throw new IllegalStateException("flaky");
            },
            task(2, 3));

    assertThat(c.status()).isEqualTo(TaskStatus.RETRY_WAIT);
    assertThat(c.retryDelayMs()).isEqualTo(200);
    assertThat(c.error()).contains("flaky");
  }

  @Test
  void aThrowingHandlerOnItsLastAttemptFailsForGood() {
    Completion c =
        run(
            ctx -> {
              throw new IllegalStateException("flaky");
            },
            task(3, 3));

    assertThat(c.status()).isEqualTo(TaskStatus.FAILED);
    assertThat(c.error()).contains("flaky");
  }

  @Test
  void aNonRetryableFailureFailsAtOnceWhateverAttemptsAreLeft() {
    Completion c =
        run(
            ctx -> {
              throw new NonRetryableException("bad input");
            },
            task(1, 5));

    assertThat(c).isEqualTo(new Completion(JOB, 3, 17, TaskStatus.FAILED, null, "bad input", 0));
  }

  @Test
  void aRetryAskedForWaitsTheLongerOfItsDelayAndTheBackoff() {
    Completion longer =
        run(ctx -> TaskResult.retryAfter(Duration.ofSeconds(5), "later"), task(1, 3));
    Completion shorter =
        run(ctx -> TaskResult.retryAfter(Duration.ofMillis(1), "soon"), task(1, 3));

    assertThat(longer.retryDelayMs()).isEqualTo(5_000);
    assertThat(shorter.retryDelayMs()).isEqualTo(100);
    assertThat(shorter.error()).isEqualTo("soon");
  }

  @Test
  void aFailResultFailsTheTask() {
    Completion c = run(ctx -> TaskResult.fail("no"), task(1, 3));

    assertThat(c).isEqualTo(new Completion(JOB, 3, 17, TaskStatus.FAILED, null, "no", 0));
  }

  @Test
  void aTaskDeliveredMoreOftenThanAllowedIsDeadLetteredWithoutRunning() {
    Completion c =
        run(
            ctx -> {
              throw new AssertionError("must not run");
            },
            task(4, 3));

    assertThat(c.status()).isEqualTo(TaskStatus.FAILED);
    assertThat(c.error()).isEqualTo("gave up after 3 deliveries of at most 3");
  }

  @Test
  void anUnknownJobTypeFailsTheTaskNamingTheType() {
    RunningTask t =
        new RunningTask(new ClaimedTask(JOB, 0, 1, 1, Json.object(), "missing", 3), "q", "1-0");

    Completion c = run(ctx -> TaskResult.success(null), t);

    assertThat(c.status()).isEqualTo(TaskStatus.FAILED);
    assertThat(c.error()).isEqualTo("job type 'missing' is not on this worker's classpath");
  }

  @Test
  void whatAStoppedHandlerReturnsIsHandedBackWithoutSpendingTheAttempt() {
    RunningTask t = task(1, 3);
    Completion returned =
        run(
            ctx -> {
              t.stop("the worker is draining");
              return TaskResult.success(null);
            },
            t);
    RunningTask u = task(3, 3);
    Completion thrown =
        run(
            ctx -> {
              u.stop("lost its lease");
              throw new IllegalStateException("cut short");
            },
            u);

    assertThat(returned.isHandBack()).isTrue();
    assertThat(returned.error()).isEqualTo("handed back: the worker is draining");
    assertThat(thrown.isHandBack()).as("even on the last attempt").isTrue();
  }

  private static RunningTask timedTask(int attempt, int maxAttempts, TimeLimits limits) {
    return new RunningTask(
        new ClaimedTask(JOB, 3, attempt, 17, Json.object(), "fake", maxAttempts, limits, null),
        "q",
        "1-0");
  }

  @Test
  void anAttemptStoppedByItsTimeoutFailsWithTheTimeoutAndRetriesAfterTheJobsOwnBackoff() {
    TimeLimits limits =
        new TimeLimits(Duration.ofSeconds(30), null, Duration.ofSeconds(2), Duration.ofMinutes(1));
    RunningTask task = timedTask(2, 3, limits);

    Completion c =
        run(
            ctx -> {
              task.timeOut();
              return TaskResult.success(Json.object());
            },
            task);

    assertThat(c.status()).isEqualTo(TaskStatus.RETRY_WAIT);
    assertThat(c.error()).isEqualTo("timed out after 30s");
    assertThat(c.retryDelayMs())
        .as("2 s × 2^(2-1), the job's base, not the worker's")
        .isEqualTo(4000);
  }

  @Test
  void aTimedOutLastAttemptFailsForGoodWithTheTimeout() {
    RunningTask task = timedTask(3, 3, TimeLimits.NONE.withTaskTimeout(Duration.ofMillis(500)));

    Completion c =
        run(
            ctx -> {
              task.timeOut();
              throw new InterruptedException("stopped");
            },
            task);

    assertThat(c.status()).isEqualTo(TaskStatus.FAILED);
    assertThat(c.error()).isEqualTo("timed out after 500ms");
  }

  @Test
  void aTaskToldToStopForAnotherReasonFirstIsHandedBackEvenIfItsTimeoutFiresLater() {
    RunningTask task = timedTask(1, 3, TimeLimits.NONE.withTaskTimeout(Duration.ofSeconds(1)));

    Completion c =
        run(
            ctx -> {
              task.stop("lost its lease");
              task.timeOut();
              return TaskResult.success(Json.object());
            },
            task);

    assertThat(c.isHandBack()).isTrue();
  }

  @Test
  void aTaskDeliveredPastItsAttemptsAfterTheLeaderTimedItOutFailsWithTheTimeout() {
    RunningTask task =
        new RunningTask(
            new ClaimedTask(
                JOB, 3, 4, 17, Json.object(), "fake", 3, TimeLimits.NONE, "timed out after 1s"),
            "q",
            "1-0");

    Completion c = run(ctx -> TaskResult.success(Json.object()), task);

    assertThat(c.status()).isEqualTo(TaskStatus.FAILED);
    assertThat(c.error()).isEqualTo("timed out after 1s");
  }
}
