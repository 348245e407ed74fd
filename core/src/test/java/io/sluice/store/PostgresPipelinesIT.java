package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.builtin.NoopJobType;
import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.store.PostgresPipelines.Advanced;
import io.sluice.store.PostgresPipelines.Splitters;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The join of a pipeline against a real PostgreSQL: the stage that depends on several parallel
 * stages is split exactly once, in the transaction of whichever of their collect commits comes
 * last, however those commits interleave.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresPipelinesIT {
  private static final int ROUNDS = 1500;
  private static final int PARALLEL = 3;

  private static Database db;
  private static final PostgresJobSubmission submission = new PostgresJobSubmission();
  private static final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private static final PostgresPipelines pipelines = new PostgresPipelines();
  private static final PostgresJobStore jobs = new PostgresJobStore();
  private static final ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);

  private static final Splitter NOOP = new NoopJobType().splitter();

  /** noop; and "fromparent", which makes one task per task its dependencies succeeded with. */
  private static final Splitters SPLITTERS =
      type ->
          switch (type) {
            case "noop" -> Optional.of(NOOP);
            case "fromparent" ->
                Optional.of(
                    new Splitter() {
                      @Override
                      public void split(Payload payload, TaskSink sink) {
                        throw new UnsupportedOperationException("a stage's split is called");
                      }

                      @Override
                      public void split(Stage stage, Payload payload, TaskSink sink) {
                        int n = 0;
                        for (JsonNode r : stage.dependencyResults().values()) {
                          n += r.get("succeeded").asInt();
                        }
                        for (int i = 0; i < n; i++) {
                          sink.accept(Json.object().put("i", i));
                        }
                      }
                    });
            case "boom" ->
                Optional.of(
                    (payload, sink) -> {
                      sink.accept(Json.object());
                      throw new IllegalStateException("the splitter broke");
                    });
            default -> Optional.empty();
          };

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 8), "test");
    db.migrate();
  }

  @AfterAll
  static void close() {
    pool.shutdownNow();
    db.close();
  }

  @Test
  void theJoinOfParallelStagesFinishingAtTheSameInstantIsSplitExactlyOnce() throws Exception {
    int zero = 0;
    int twice = 0;
    for (int round = 0; round < ROUNDS; round++) {
      List<NewStage> stages = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (int i = 0; i < PARALLEL; i++) {
        names.add("p" + i);
        stages.add(stage("p" + i, "noop", "{\"tasks\":1}"));
      }
      stages.add(new NewStage("join", "noop", Json.read("{\"tasks\":2}"), names, "q", "fail"));
      UUID pipeline = store(stages);
      List<Job> parallel = jobs(pipeline).subList(0, PARALLEL);
      List<Long> gates = new ArrayList<>();
      for (Job p : parallel) {
        gates.add(finishTasksAndGate(p.id()));
      }
      CyclicBarrier barrier = new CyclicBarrier(PARALLEL);
      List<Future<Advanced>> commits = new ArrayList<>();
      for (int i = 0; i < PARALLEL; i++) {
        UUID stage = parallel.get(i).id();
        long version = gates.get(i);
        commits.add(
            pool.submit(
                () ->
                    db.inTransaction(
                        c -> {
                          awaitQuietly(barrier);
                          transitions
                              .collected(c, stage, version, "{\"succeeded\":1}")
                              .orElseThrow();
                          return pipelines.advance(c, pipeline, SPLITTERS);
                        })));
      }
      int splitBy = 0;
      for (Future<Advanced> f : commits) {
        splitBy += f.get(30, TimeUnit.SECONDS).split().size();
      }
      long splits = splits(jobs(pipeline).get(PARALLEL).id());
      if (splits == 0) {
        zero++;
      } else if (splits > 1) {
        twice++;
      }
      assertThat(splitBy).as("round %d: commits that split the join", round).isEqualTo(1);
      Job join = jobs(pipeline).get(PARALLEL);
      assertThat(join.status()).isEqualTo(JobStatus.QUEUED);
      assertThat(join.taskCount()).isEqualTo(2);
      assertThat(tasks(join.id())).isEqualTo(2);
      assertThat(db.query(c -> jobs.find(c, pipeline)).orElseThrow().taskCount())
          .isEqualTo(PARALLEL + 2);
    }
    assertThat(zero).as("rounds whose join was never split").isZero();
    assertThat(twice).as("rounds whose join was split twice").isZero();
  }

  @Test
  void aStageSplitterSeesItsDependenciesResultsByName() throws Exception {
    UUID pipeline =
        store(
            List.of(
                stage("parent", "noop", "{\"tasks\":1}"),
                new NewStage(
                    "child", "fromparent", Json.object(), List.of("parent"), "q", "fail")));
    Job parent = jobs(pipeline).get(0);
    long gate = finishTasksAndGate(parent.id());

    Advanced advanced = collectAndAdvance(pipeline, parent.id(), gate, "{\"succeeded\":7}");

    assertThat(advanced.split()).hasSize(1);
    assertThat(jobs(pipeline).get(1).taskCount())
        .as("a task count from the parent's result")
        .isEqualTo(7);
    assertThat(tasks(jobs(pipeline).get(1).id())).isEqualTo(7);
  }

  @Test
  void aSplitterThatThrowsFailsItsStageAndThePipelineButKeepsTheCommitThatMadeItReady()
      throws Exception {
    UUID pipeline =
        store(
            List.of(
                stage("first", "noop", "{\"tasks\":1}"),
                new NewStage("broken", "boom", Json.object(), List.of("first"), "q", "fail"),
                new NewStage(
                    "never", "noop", Json.read("{\"tasks\":1}"), List.of("broken"), "q", "fail")));
    Job first = jobs(pipeline).get(0);
    long gate = finishTasksAndGate(first.id());

    Advanced advanced = collectAndAdvance(pipeline, first.id(), gate, "{\"succeeded\":1}");

    assertThat(advanced.ended()).isTrue();
    List<Job> stages = jobs(pipeline);
    assertThat(stages.get(0).status())
        .as("the commit before the split holds")
        .isEqualTo(JobStatus.SUCCEEDED);
    assertThat(stages.get(1).status()).isEqualTo(JobStatus.FAILED);
    assertThat(stages.get(1).error()).isEqualTo("split failed: the splitter broke");
    assertThat(tasks(stages.get(1).id())).as("the broken split left no task").isZero();
    assertThat(stages.get(2).status()).isEqualTo(JobStatus.CANCELLED);
    try (Connection c = db.dataSource().getConnection()) {
      Job job = jobs.find(c, pipeline).orElseThrow();
      assertThat(job.status()).isEqualTo(JobStatus.FAILED);
      assertThat(job.error()).isEqualTo("stage 'broken' failed: split failed: the splitter broke");
    }
  }

  @Test
  void advancingAgainChangesNothing() throws Exception {
    UUID pipeline =
        store(
            List.of(
                stage("a", "noop", "{\"tasks\":1}"),
                new NewStage("b", "noop", Json.read("{\"tasks\":1}"), List.of("a"), "q", "fail")));
    Job a = jobs(pipeline).get(0);
    long gate = finishTasksAndGate(a.id());
    collectAndAdvance(pipeline, a.id(), gate, "{\"succeeded\":1}");

    Advanced again = db.inTransaction(c -> pipelines.advance(c, pipeline, SPLITTERS));

    assertThat(again.split()).isEmpty();
    assertThat(again.ended()).isFalse();
    assertThat(splits(jobs(pipeline).get(1).id())).isEqualTo(1);
  }

  @Test
  void aSweepFindsAPipelineWhoseStageSucceededWithoutItsDependentSplitAndAdvanceRepairsIt()
      throws Exception {
    UUID pipeline =
        store(
            List.of(
                stage("a", "noop", "{\"tasks\":1}"),
                new NewStage("b", "noop", Json.read("{\"tasks\":3}"), List.of("a"), "q", "fail")));
    Job a = jobs(pipeline).get(0);
    long gate = finishTasksAndGate(a.id());
    // The collect commit without its advance: what no code path leaves, but a sweep must repair.
    db.inTransaction(c -> transitions.collected(c, a.id(), gate, "{\"succeeded\":1}"));

    List<UUID> found = new ArrayList<>();
    db.query(
            c ->
                new PostgresJobRepair()
                    .page(
                        c,
                        PostgresJobRepair.Kind.UNADVANCED,
                        Duration.ZERO,
                        PostgresJobRepair.Cursor.START,
                        1000))
        .forEach(f -> found.add(f.id()));
    assertThat(found).contains(pipeline);

    Advanced repaired = db.inTransaction(c -> pipelines.advance(c, pipeline, SPLITTERS));

    assertThat(repaired.split()).extracting(Job::stageName).containsExactly("b");
    assertThat(jobs(pipeline).get(1).taskCount()).isEqualTo(3);
  }

  @Test
  void theStageTransitionsMoveOnlyFromTheirOwnStatuses() throws Exception {
    UUID pipeline =
        store(
            List.of(
                stage("a", "noop", "{\"tasks\":1}"),
                new NewStage("b", "noop", Json.read("{\"tasks\":1}"), List.of("a"), "q", "fail")));
    Job a = jobs(pipeline).get(0);
    finishTasksAndGate(a.id()); // the pipeline's counts now add up: 1 of 1 task finished
    UUID single = UUID.randomUUID();
    NewJob one = aJob().withId(single).withTasks(1).build();
    submission.store(db, one, NOOP, new Payload(Json.read("{\"tasks\":1}")), null);

    assertThat(db.<OptionalLong>inTransaction(c -> transitions.split(c, a.id(), pipeline, 5)))
        .as("a stage split already (QUEUED) is not split again")
        .isEmpty();
    assertThat(db.<OptionalLong>inTransaction(c -> transitions.pipelineSucceeded(c, single, "{}")))
        .as("a one-stage job never succeeds as a pipeline")
        .isEmpty();
    assertThat(db.<OptionalLong>inTransaction(c -> transitions.collecting(c, pipeline)))
        .as("a pipeline has no collection gate of its own")
        .isEmpty();
  }

  /** A stage's collect commit with its result, and the pipeline's advance, in one transaction. */
  private static Advanced collectAndAdvance(UUID pipeline, UUID stage, long gate, String result) {
    return db.inTransaction(
        c -> {
          transitions.collected(c, stage, gate, result).orElseThrow();
          return pipelines.advance(c, pipeline, SPLITTERS);
        });
  }

  private static NewStage stage(String name, String type, String payload) {
    return new NewStage(name, type, Json.read(payload), List.of(), "q", "fail");
  }

  private static UUID store(List<NewStage> stages) {
    NewJob job = aJob().withType("pipeline").withStages(stages.toArray(NewStage[]::new)).build();
    assertThat(submission.storePipeline(db, job, SPLITTERS, null))
        .isInstanceOf(PostgresJobSubmission.Created.class);
    return job.id();
  }

  private static List<Job> jobs(UUID pipeline) throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      return jobs.stagesOf(c, pipeline);
    }
  }

  /** Dispatches a stage, counts all its tasks succeeded and takes its collection gate. */
  private static long finishTasksAndGate(UUID stage) {
    return db.inTransaction(
        c -> {
          transitions.dispatched(c, stage).orElseThrow();
          int n = jobs.find(c, stage).orElseThrow().taskCount();
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE tasks SET status = 'SUCCEEDED' WHERE job_id = ?")) {
            ps.setObject(1, stage);
            ps.executeUpdate();
          }
          jobs.addCounts(c, List.of(new CountDelta(stage, n, 0)));
          return transitions.collecting(c, stage).orElseThrow();
        });
  }

  private static long splits(UUID stage) throws SQLException {
    return count(
        "SELECT count(*) FROM job_events WHERE job_id = ? AND from_status = 'WAITING'"
            + " AND to_status = 'QUEUED'",
        stage);
  }

  private static long tasks(UUID stage) throws SQLException {
    return count("SELECT count(*) FROM tasks WHERE job_id = ?", stage);
  }

  private static long count(String sql, UUID id) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void awaitQuietly(CyclicBarrier barrier) {
    try {
      barrier.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
