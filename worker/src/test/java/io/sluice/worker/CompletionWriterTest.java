package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.json.Json;
import io.sluice.queue.Delivery;
import io.sluice.queue.InMemoryQueueProtocol;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.JobStatus;
import io.sluice.store.TaskStatus;
import io.sluice.worker.CompletionWriter.Done;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The completion writer against a fake completion transaction and the in-memory queue protocol;
 * retries wait on a sleeper that only records the delays, so nothing here sleeps.
 */
class CompletionWriterTest {
  private static final String QUEUE = "q";
  private static final UUID JOB = UUID.fromString("00000000-0000-0000-0000-00000000000a");
  private static final UUID OTHER = UUID.fromString("00000000-0000-0000-0000-00000000000b");

  private final FakeCompletions store = new FakeCompletions();
  private final InMemoryQueueProtocol redis = new InMemoryQueueProtocol();
  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final List<Long> sleeps = new ArrayList<>();
  private final List<Boolean> healthyWhileWaiting = new ArrayList<>();
  private InFlight inFlight = new InFlight();
  private CompletionWriter writer = writer();

  private CompletionWriter writer() {
    return new CompletionWriter(
        store,
        redis,
        inFlight,
        metrics,
        ms -> {
          if (sleeps.size() > 20) {
            throw new AssertionError("retried without end: " + sleeps);
          }
          sleeps.add(ms);
          healthyWhileWaiting.add(writer.healthy());
        });
  }

  /** A RUNNING job whose tasks are all claimed at epoch 1, with its fan-in counter. */
  private void running(UUID jobId, int tasks, String onTaskFailure) {
    store.runningJob(jobId, tasks, onTaskFailure, 1);
    redis.initFanIn(jobId, tasks);
  }

  /** A claim of {@code seq} held in flight, with its stream entry fetched from {@code QUEUE}. */
  private Done claimed(UUID jobId, int seq, TaskStatus status, String output, String error) {
    redis.enqueue(QUEUE, jobId, new int[] {seq});
    Delivery d = redis.fetch(QUEUE, "w", 1, null).getFirst();
    inFlight.add(
        new RunningTask(
            new ClaimedTask(jobId, seq, 1, 1, Json.object(), "noop", 3), QUEUE, d.entryId()));
    return new Done(new Completion(jobId, seq, 1, status, output, error, 0), QUEUE, d.entryId());
  }

  private Done succeeded(UUID jobId, int seq) {
    return claimed(jobId, seq, TaskStatus.SUCCEEDED, "{\"ok\":" + seq + "}", null);
  }

  private double count(String counter) {
    return metrics.counter(counter).count();
  }

  /** Submits and runs the loop until everything submitted is written, on this thread. */
  private void writeAll(Done... done) throws InterruptedException {
    for (Done d : done) {
      writer.submit(d);
    }
    writer.stop();
    writer.loop();
  }

  @Test
  void aBatchCommitsOnceAndIsAcknowledgedAndCountedInOnePipeline() throws Exception {
    running(JOB, 3, "continue");
    running(OTHER, 2, "continue");

    writeAll(succeeded(JOB, 0), succeeded(OTHER, 0), succeeded(JOB, 1), succeeded(OTHER, 1));

    assertThat(store.batches).as("one transaction").hasSize(1);
    assertThat(store.batches.getFirst()).hasSize(4);
    assertThat(redis.acknowledgeCalls()).as("one ack and fan-in pipeline").isEqualTo(1);
    assertThat(redis.entries(QUEUE)).as("every entry acknowledged").isEmpty();
    assertThat(redis.remaining(JOB)).isEqualTo(1);
    assertThat(redis.signalled())
        .as("only the job whose fan-in reached zero")
        .containsExactly(OTHER);
    assertThat(count("sluice_tasks_succeeded_total")).isEqualTo(4);
    assertThat(inFlight.size()).isZero();
    assertThat(sleeps).isEmpty();
  }

  @Test
  void theFanInCrossingSignalsCollectionExactlyOnceEvenWhenATaskIsRedelivered() {
    running(JOB, 2, "continue");
    Done first = succeeded(JOB, 0);
    Done last = succeeded(JOB, 1);

    writer.write(List.of(first));
    assertThat(redis.signalled()).isEmpty();
    writer.write(List.of(last));
    // A redelivered entry of a finished task: its claim found the task finished, nothing applies.
    writer.write(List.of(last));

    assertThat(redis.signalled()).containsExactly(JOB);
  }

  @Test
  void withoutAFanInCounterPostgresCountsDecideTheCollectSignal() {
    store.runningJob(JOB, 2, "continue", 1);

    writer.write(List.of(succeeded(JOB, 0)));
    assertThat(redis.signalled()).isEmpty();
    writer.write(List.of(succeeded(JOB, 1)));

    assertThat(redis.signalled()).containsExactly(JOB);
  }

  @Test
  void aZombieResultIsCountedDiscardedAndNotCountedTowardsTheFanIn() {
    running(JOB, 2, "continue");
    Done zombie = succeeded(JOB, 0);
    Done live = succeeded(JOB, 1);
    store.reclaimed(JOB, 0, 2);

    writer.write(List.of(zombie, live));

    assertThat(count("sluice_zombie_commits_rejected_total")).isEqualTo(1);
    assertThat(count("sluice_tasks_succeeded_total")).as("only the live claim").isEqualTo(1);
    assertThat(store.status(JOB, 0)).as("left to the newer claim").isEqualTo(TaskStatus.RUNNING);
    assertThat(redis.remaining(JOB)).as("the zombie is not a finished task").isEqualTo(1);
    assertThat(redis.signalled()).isEmpty();
    assertThat(redis.entries(QUEUE)).as("its stale entry is acknowledged all the same").isEmpty();
    assertThat(inFlight.size()).isZero();
  }

  @Test
  void aTransientWriteFailureIsRetriedWithBackoffAndTheBatchIsWrittenOnce() throws Exception {
    running(JOB, 1, "continue");
    store.failNext(3);

    writeAll(succeeded(JOB, 0));

    assertThat(sleeps).as("doubling backoff").containsExactly(100L, 200L, 400L);
    assertThat(healthyWhileWaiting).as("not ready while failing").containsOnly(false);
    assertThat(writer.healthy()).isTrue();
    assertThat(store.batches).hasSize(4).allSatisfy(b -> assertThat(b).hasSize(1));
    assertThat(redis.acknowledgeCalls()).as("acknowledged after the commit only").isEqualTo(1);
    assertThat(redis.signalled()).containsExactly(JOB);
  }

  @Test
  void aCompletionPostgresRefusesIsIsolatedAndFailsOnlyItsOwnTask() throws Exception {
    running(JOB, 4, "continue");

    writeAll(
        succeeded(JOB, 0),
        claimed(JOB, 1, TaskStatus.SUCCEEDED, "{\"text\":\"a\u0000b\"}", null),
        succeeded(JOB, 2),
        claimed(JOB, 3, TaskStatus.RETRY_WAIT, null, "bad\u0000reason"));

    assertThat(store.status(JOB, 0)).isEqualTo(TaskStatus.SUCCEEDED);
    assertThat(store.status(JOB, 1)).isEqualTo(TaskStatus.FAILED);
    assertThat(store.status(JOB, 2)).isEqualTo(TaskStatus.SUCCEEDED);
    assertThat(store.status(JOB, 3)).isEqualTo(TaskStatus.FAILED);
    assertThat(store.error(JOB, 1))
        .startsWith("the worker could not store this task's result (SQLSTATE 22P05")
        .doesNotContain("\u0000");
    assertThat(count("sluice_completions_unstorable_total")).isEqualTo(2);
    assertThat(sleeps).as("a refusal is not retried").isEmpty();
    assertThat(redis.signalled()).as("every task finished").containsExactly(JOB);
    assertThat(redis.entries(QUEUE)).isEmpty();
    assertThat(inFlight.size()).isZero();
    assertThat(writer.healthy()).isTrue();
  }

  @Test
  void aTaskThatFailsItsJobDeletesTheJobsKeys() {
    running(JOB, 3, "fail");

    writer.write(List.of(succeeded(JOB, 0), claimed(JOB, 1, TaskStatus.FAILED, null, "boom")));

    assertThat(store.jobStatus(JOB)).isEqualTo(JobStatus.FAILED);
    assertThat(redis.deletedJobs()).containsExactly(JOB);
    assertThat(count("sluice_tasks_failed_total")).isEqualTo(1);
  }

  @Test
  void aHandedBackTaskIsAppendedAgainWithoutSpendingItsFanIn() {
    running(JOB, 2, "continue");
    Done stopped = claimed(JOB, 0, TaskStatus.QUEUED, null, "lease renewal failed");
    Done done = succeeded(JOB, 1);

    writer.write(List.of(stopped, done));

    assertThat(store.status(JOB, 0)).isEqualTo(TaskStatus.QUEUED);
    assertThat(count("sluice_tasks_handed_back_total")).isEqualTo(1);
    assertThat(redis.entries(QUEUE))
        .as("the old entry acknowledged, a new one to run it again")
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.seq()).isZero();
              assertThat(e.entryId()).isNotEqualTo(stopped.entryId());
            });
    assertThat(redis.remaining(JOB)).isEqualTo(1);
    assertThat(redis.signalled()).isEmpty();
  }

  @Test
  void writtenClaimsGiveTheirRoomBackSoTheFetchLoopMayClaimAgain() throws Exception {
    inFlight = new InFlight(2);
    writer = writer();
    running(JOB, 2, "continue");
    assertThat(inFlight.reserve(2, 0)).isEqualTo(2);
    Done a = succeeded(JOB, 0);
    Done b = succeeded(JOB, 1);
    assertThat(inFlight.reserve(1, 0)).as("full").isZero();

    writeAll(a, b);

    assertThat(inFlight.size()).isZero();
    assertThat(inFlight.reserve(2, 0)).as("both claims' room is back").isEqualTo(2);
  }
}
