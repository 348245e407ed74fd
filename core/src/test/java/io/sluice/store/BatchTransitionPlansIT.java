package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.store.PostgresCollectAttempts.Opened;
import io.sluice.store.PostgresJobTransitions.CollectionEnd;
import io.sluice.testing.StoredJobs;
import io.sluice.testing.TestDatabases;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batch transitions of a job's life (dispatch, the collection gate, the collection's end) read
 * the few rows they are given through the primary key however many jobs went through the same
 * transitions before them. The statements run on one connection from when the table is empty, so
 * the plans they keep are the ones a coordinator's pooled connections keep: a prepared statement's
 * generic plan, made for the empty table, is a sequential scan, kept until an ANALYZE invalidates
 * it. Where autovacuum is off none would, so the test analyzes the tables as they grow, as the
 * leader's statistics step does ({@code AnalyzeStaleTables}); without that step the dispatch of the
 * last ten jobs read 1,099 blocks, with it 361.
 */
@ExtendWith(SluiceTestExtension.class)
class BatchTransitionPlansIT {
  private static final int ROUNDS = 30;
  private static final int JOBS_PER_ROUND = 100;
  private static final int BATCH = 10;
  // Ten rows updated, each with an entry in every index of jobs its new version belongs in, and
  // the triggers' reads: 220-360 blocks measured. A sequential scan of the 3,000 jobs' versions
  // reads about 1,100.
  private static final long MOST_BLOCKS = 600;
  private static final Duration GRACE = Duration.ofSeconds(30);

  private static Database db;
  private static TestEnvironment env;
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresCollectAttempts attempts = new PostgresCollectAttempts();
  private final PostgresRetention retention = new PostgresRetention();

  @BeforeAll
  static void migrate(TestEnvironment environment) {
    env = environment;
    db = TestDatabases.migrated(env);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void eachBatchTransitionReadsOnlyTheRowsItIsGivenAfterThousandsOfJobsWentThrough()
      throws Exception {
    StoredJobs stored = new StoredJobs(db);
    int analyses = 0;
    try (Connection c =
        DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword())) {
      c.setAutoCommit(false);
      for (int round = 0; round < ROUNDS; round++) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < JOBS_PER_ROUND; i++) {
          ids.add(stored.queued(aJob().withTasks(1)));
        }
        for (int from = 0; from < ids.size(); from += BATCH) {
          List<UUID> batch = ids.subList(from, from + BATCH);
          assertThat(transitions.dispatchedAll(c, batch)).hasSize(BATCH);
          tasksDone(c, batch);
          List<Opened> opened = attempts.openAll(c, batch, GRACE);
          assertThat(opened).hasSize(BATCH);
          assertThat(transitions.collectionsEnded(c, ends(opened))).hasSize(BATCH);
          c.commit();
        }
        // What the leader's statistics step does every ten seconds where autovacuum is off.
        TestDatabases.flushStatistics(c);
        c.setAutoCommit(true);
        if (retention.analyzeStale(c).contains("jobs")) {
          analyses++;
        }
        c.setAutoCommit(false);
      }
      assertThat(analyses).as("analyses of jobs as it grew").isPositive();

      List<UUID> last = new ArrayList<>();
      for (int i = 0; i < BATCH; i++) {
        last.add(stored.queued(aJob().withTasks(1)));
      }
      long before = blocksOfJobs(c);
      assertThat(transitions.dispatchedAll(c, last)).hasSize(BATCH);
      c.commit();
      long dispatched = blocksOfJobs(c);
      tasksDone(c, last);
      c.commit();
      long counted = blocksOfJobs(c);
      List<Opened> opened = attempts.openAll(c, last, GRACE);
      assertThat(opened).hasSize(BATCH);
      c.commit();
      long gated = blocksOfJobs(c);
      assertThat(transitions.collectionsEnded(c, ends(opened))).hasSize(BATCH);
      c.commit();
      long ended = blocksOfJobs(c);

      assertThat(dispatched - before)
          .as("blocks of jobs the dispatch read")
          .isLessThan(MOST_BLOCKS);
      assertThat(gated - counted).as("blocks of jobs the gate read").isLessThan(MOST_BLOCKS);
      assertThat(ended - gated).as("blocks of jobs the collection read").isLessThan(MOST_BLOCKS);
    }
  }

  /** Counts each job's one task done, as a worker's completion would. */
  private static void tasksDone(Connection c, List<UUID> ids) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE jobs SET tasks_succeeded = task_count, version = version + 1,"
                + " updated_at = now() WHERE id = ANY(?)")) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      assertThat(ps.executeUpdate()).isEqualTo(ids.size());
    }
  }

  private static List<CollectionEnd> ends(List<Opened> opened) {
    return opened.stream()
        .map(
            o ->
                new CollectionEnd(
                    o.jobId(), o.gate().version(), JobStatus.SUCCEEDED, "{\"ok\":true}", null))
        .toList();
  }

  /**
   * Heap and index blocks of {@code jobs} read or found in the buffer cache so far, after flushing
   * this connection's statistics (its own reads are all there is: nothing else uses the database).
   */
  private static long blocksOfJobs(Connection c) throws SQLException {
    TestDatabases.flushStatistics(c);
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT heap_blks_read + heap_blks_hit + idx_blks_read + idx_blks_hit"
                    + " FROM pg_statio_user_tables WHERE relname = 'jobs'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
