package io.sluice.store;

import static io.sluice.store.JobStatus.CANCELLED;
import static io.sluice.store.JobStatus.COLLECTING;
import static io.sluice.store.JobStatus.FAILED;
import static io.sluice.store.JobStatus.QUEUED;
import static io.sluice.store.JobStatus.RUNNING;
import static io.sluice.store.JobStatus.SUCCEEDED;
import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.DatabaseConfig;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.testing.JobRows;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The job state machine against a real, migrated PostgreSQL: each named transition moves a job only
 * from its legal status (at the version it is given), writes exactly one STATUS event saying so,
 * and otherwise changes nothing and writes nothing; of two competing transitions exactly one wins.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresJobTransitionsIT {
  private static final int RACES = 200;

  private static Database db;
  private static StoredJobs stored;
  private static final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private static final PostgresJobStore jobs = new PostgresJobStore();
  private static final JobRows rows = new JobRows();
  private static final ExecutorService pool = Executors.newFixedThreadPool(2);

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    stored = new StoredJobs(db);
  }

  @AfterAll
  static void close() {
    pool.shutdownNow();
    db.close();
  }

  /** A transition applied to a job at the version the caller holds. */
  @FunctionalInterface
  interface Op {
    OptionalLong apply(Connection c, UUID jobId, long version) throws SQLException;
  }

  /** Every named transition: how to run it, the statuses it leaves, and where it leads. */
  static Stream<Arguments> operations() {
    return Stream.of(
        op("dispatched", (c, id, v) -> transitions.dispatched(c, id), false, RUNNING, QUEUED),
        op(
            "collecting",
            (c, id, v) -> transitions.collecting(c, id),
            false,
            COLLECTING,
            QUEUED,
            RUNNING),
        op(
            "collected",
            (c, id, v) -> transitions.collected(c, id, v, "{\"n\": 1}"),
            true,
            SUCCEEDED,
            COLLECTING),
        op(
            "collectFailed",
            (c, id, v) -> transitions.collectFailed(c, id, v, "boom"),
            true,
            FAILED,
            COLLECTING),
        op(
            "failedByTask",
            (c, id, v) -> transitions.failedByTask(c, id, "task 0 failed: x"),
            false,
            FAILED,
            QUEUED,
            RUNNING),
        op(
            "cancelled",
            (c, id, v) -> transitions.cancelled(c, id, v),
            true,
            CANCELLED,
            QUEUED,
            RUNNING),
        op(
            "cancelled at any version",
            (c, id, v) -> transitions.cancelled(c, id, null),
            false,
            CANCELLED,
            QUEUED,
            RUNNING));
  }

  private static Arguments op(
      String name, Op op, boolean versioned, JobStatus to, JobStatus... legalFrom) {
    return Arguments.of(name, op, versioned, to, EnumSet.of(legalFrom[0], legalFrom));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operations")
  void aTransitionMovesAJobFromItsLegalStatusAndWritesOneEvent(
      String name, Op op, boolean versioned, JobStatus to, Set<JobStatus> legalFrom) {
    for (JobStatus from : legalFrom) {
      UUID id = jobIn(from);
      JobRows.Snapshot before = rows.snapshot(db, id);

      OptionalLong moved = db.inTransaction(c -> op.apply(c, id, before.version()));

      JobRows.Snapshot after = rows.snapshot(db, id);
      assertThat(moved).as("%s from %s", name, from).hasValue(before.version() + 1);
      assertThat(after.status()).isEqualTo(to);
      assertThat(after.version()).isEqualTo(before.version() + 1);
      assertThat(after.events()).as("one event more").isEqualTo(before.events() + 1);
      assertThat(rows.lastEvent(db, id))
          .isEqualTo(new JobRows.Event("STATUS", after.version(), from.name(), to.name()));
      assertThat(after.finished()).isEqualTo(to.isTerminal());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operations")
  void aTransitionFromAnyOtherStatusChangesNothing(
      String name, Op op, boolean versioned, JobStatus to, Set<JobStatus> legalFrom) {
    EnumSet<JobStatus> illegal = EnumSet.complementOf(EnumSet.copyOf(legalFrom));
    illegal.remove(
        JobStatus.WAITING); // only a pipeline's stage waits; PostgresPipelinesIT has them
    for (JobStatus from : illegal) {
      UUID id = jobIn(from);
      JobRows.Snapshot before = rows.snapshot(db, id);

      OptionalLong moved = db.inTransaction(c -> op.apply(c, id, before.version()));

      assertThat(moved).as("%s from %s", name, from).isEmpty();
      assertThat(rows.snapshot(db, id)).isEqualTo(before);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("operations")
  void aVersionedTransitionAtAStaleVersionChangesNothing(
      String name, Op op, boolean versioned, JobStatus to, Set<JobStatus> legalFrom) {
    if (!versioned) {
      return;
    }
    for (JobStatus from : legalFrom) {
      UUID id = jobIn(from);
      JobRows.Snapshot before = rows.snapshot(db, id);

      OptionalLong moved = db.inTransaction(c -> op.apply(c, id, before.version() - 1));

      assertThat(moved).as("%s from %s at a stale version", name, from).isEmpty();
      assertThat(rows.snapshot(db, id)).isEqualTo(before);
    }
  }

  @Test
  void collectingWaitsForEveryTaskToFinish() {
    UUID id = stored.running(aJob().withTasks(2));
    db.inTransaction(c -> jobs.addCounts(c, List.of(new CountDelta(id, 1, 0))));
    JobRows.Snapshot before = rows.snapshot(db, id);

    OptionalLong moved = db.inTransaction(c -> transitions.collecting(c, id));

    assertThat(moved).isEmpty();
    assertThat(rows.snapshot(db, id)).isEqualTo(before);
  }

  @Test
  void aRequeueMovesTheJobAndWritesAStatusEventOnlyWhenItsStatusChanges() {
    for (JobStatus[] pair : new JobStatus[][] {{RUNNING, QUEUED}, {FAILED, QUEUED}}) {
      UUID id = withOneFailure(pair[0]);
      JobRows.Snapshot before = rows.snapshot(db, id);

      OptionalLong moved =
          db.inTransaction(c -> transitions.requeued(c, id, before.version(), pair[0], pair[1], 0));

      JobRows.Snapshot after = rows.snapshot(db, id);
      assertThat(moved).hasValue(before.version() + 1);
      assertThat(after.status()).isEqualTo(pair[1]);
      assertThat(after.finished()).as("a reopened job is not finished").isFalse();
      assertThat(after.events()).isEqualTo(before.events() + 1);
      assertThat(rows.lastEvent(db, id))
          .isEqualTo(new JobRows.Event("STATUS", after.version(), pair[0].name(), "QUEUED"));
    }
    UUID held = withOneFailure(FAILED);
    JobRows.Snapshot before = rows.snapshot(db, held);
    OptionalLong stays =
        db.inTransaction(c -> transitions.requeued(c, held, before.version(), FAILED, FAILED, 0));
    assertThat(stays).hasValue(before.version() + 1);
    assertThat(rows.snapshot(db, held))
        .as("FAILED stays FAILED: the version moves, no status event")
        .isEqualTo(new JobRows.Snapshot(FAILED, before.version() + 1, before.events(), true));
  }

  @Test
  void aRequeueRefusesAStaleVersionAWrongStatusAndAnIllegalPair() {
    UUID id = withOneFailure(RUNNING);
    JobRows.Snapshot before = rows.snapshot(db, id);

    OptionalLong stale =
        db.inTransaction(
            c -> transitions.requeued(c, id, before.version() - 1, RUNNING, QUEUED, 0));
    OptionalLong wrongStatus =
        db.inTransaction(c -> transitions.requeued(c, id, before.version(), FAILED, QUEUED, 0));

    assertThat(stale).isEmpty();
    assertThat(wrongStatus).as("the job is RUNNING, not FAILED").isEmpty();
    assertThat(rows.snapshot(db, id)).isEqualTo(before);
    assertThatThrownBy(
            () ->
                db.inTransaction(
                    c -> transitions.requeued(c, id, before.version(), RUNNING, SUCCEEDED, 0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(rows.snapshot(db, id)).isEqualTo(before);
  }

  @Test
  void ofCollectingAndCancelledRacingOnOneJobExactlyOneWins() throws Exception {
    for (int race = 0; race < RACES; race++) {
      UUID id = jobIn(RUNNING);
      JobRows.Snapshot before = rows.snapshot(db, id);

      List<OptionalLong> results =
          race(
              () -> db.inTransaction(c -> transitions.collecting(c, id)),
              () -> db.inTransaction(c -> transitions.cancelled(c, id, null)));

      assertThat(results.stream().filter(OptionalLong::isPresent))
          .as("race %d: one winner", race)
          .hasSize(1);
      JobRows.Snapshot after = rows.snapshot(db, id);
      assertThat(after.status()).isIn(COLLECTING, CANCELLED);
      assertThat(after.version()).isEqualTo(before.version() + 1);
      assertThat(after.events()).as("race %d: one event", race).isEqualTo(before.events() + 1);
    }
  }

  // --- helpers ---

  /** Runs both at the same instant, each on its own thread; their results in order. */
  private static List<OptionalLong> race(Callable<OptionalLong> a, Callable<OptionalLong> b)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(2);
    List<Future<OptionalLong>> runs =
        Stream.of(a, b)
            .map(
                run ->
                    pool.submit(
                        () -> {
                          start.await(10, TimeUnit.SECONDS);
                          return run.call();
                        }))
            .toList();
    List<OptionalLong> results = new ArrayList<>();
    for (Future<OptionalLong> run : runs) {
      results.add(run.get(30, TimeUnit.SECONDS));
    }
    return results;
  }

  /**
   * A one-task job in {@code status} whose task counts as finished (so that it may be collected),
   * reached through the transitions themselves.
   */
  private static UUID jobIn(JobStatus status) {
    UUID id = stored.queued(aJob().withTasks(1));
    db.inTransaction(
        c -> {
          jobs.addCounts(c, List.of(new CountDelta(id, 1, 0)));
          if (status == QUEUED) {
            return null;
          }
          transitions.dispatched(c, id).orElseThrow();
          switch (status) {
            case RUNNING -> {}
            case FAILED -> transitions.failedByTask(c, id, "a task failed").orElseThrow();
            case CANCELLED -> transitions.cancelled(c, id, null).orElseThrow();
            case COLLECTING -> transitions.collecting(c, id).orElseThrow();
            case SUCCEEDED ->
                transitions
                    .collected(c, id, transitions.collecting(c, id).orElseThrow(), "{}")
                    .orElseThrow();
            default -> throw new IllegalArgumentException(status.name());
          }
          return null;
        });
    return id;
  }

  /** A one-task job in {@code status} whose task counts as failed. */
  private static UUID withOneFailure(JobStatus status) {
    UUID id = stored.running(aJob().withTasks(1));
    db.inTransaction(
        c -> {
          jobs.addCounts(c, List.of(new CountDelta(id, 0, 1)));
          if (status == FAILED) {
            transitions.failedByTask(c, id, "task 0 failed: boom").orElseThrow();
          }
          return null;
        });
    return id;
  }
}
