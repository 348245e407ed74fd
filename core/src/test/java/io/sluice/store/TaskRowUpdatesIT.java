package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

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
 * What the worker's per-task writes cost the {@code tasks} table: a lease renewal changes no
 * indexed column, so it is a HOT update (no index entry written) when the row's page has room,
 * which the table's fillfactor leaves; and a completion batch's counters come back from the same
 * statement as its task rows.
 */
@ExtendWith(SluiceTestExtension.class)
class TaskRowUpdatesIT {
  private static final int TASKS = 640;
  private static final int BATCH = 32;
  private static final int RENEWALS_PER_CLAIM = 2;
  private static final Duration LEASE = Duration.ofSeconds(30);

  private static Database db;
  private static TestEnvironment env;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresCompletions completions = new PostgresCompletions();

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
  void leaseRenewalsAreHotUpdatesAndCompletionsCountTheirJobInTheSameStatement() throws Exception {
    UUID jobId = new StoredJobs(db).running(aJob().withTasks(TASKS));
    // One connection does every write, so its statistics are flushed when it asks.
    try (Connection c =
        DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword())) {
      long[] before = updates(c);
      List<PostgresJobStore.Counts> last = List.of();
      for (int from = 0; from < TASKS; from += BATCH) {
        List<TaskRef> refs = new ArrayList<>();
        for (int seq = from; seq < from + BATCH; seq++) {
          refs.add(new TaskRef(jobId, seq));
        }
        List<ClaimedTask> claimed = tasks.claim(c, "worker-a", LEASE, refs);
        assertThat(claimed).hasSize(BATCH);
        for (int i = 0; i < RENEWALS_PER_CLAIM; i++) {
          assertThat(tasks.renew(c, LEASE, claimed)).hasSize(BATCH);
        }
        List<Completion> done = new ArrayList<>();
        claimed.forEach(
            x ->
                done.add(
                    new Completion(
                        x.jobId(), x.seq(), x.leaseEpoch(), TaskStatus.SUCCEEDED, "{}", null, 0)));
        c.setAutoCommit(false);
        PostgresCompletions.Committed committed = completions.commit(c, done);
        c.commit();
        c.setAutoCommit(true);
        assertThat(committed.applied()).hasSize(BATCH);
        last = committed.counts();
      }
      long[] after = updates(c);

      long renewals = (long) TASKS * RENEWALS_PER_CLAIM;
      long hot = after[1] - before[1];
      assertThat(after[0] - before[0])
          .as("updates: a claim, the renewals and a completion per task")
          .isGreaterThanOrEqualTo(TASKS * 2L + renewals);
      // Without the fillfactor's room none is HOT. With it nearly all are, but a renewal finds room
      // only once the page's older versions were pruned, which does not always happen in time: a
      // CI run on a server busy with other tests saw 1,091 of 1,280 (the cause not pinned down).
      assertThat(hot)
          .as(
              "HOT updates, of %d renewals (claims and completions change the running set)",
              renewals)
          .isGreaterThanOrEqualTo(renewals / 2);
      assertThat(last)
          .singleElement()
          .satisfies(
              counts -> {
                assertThat(counts.id()).isEqualTo(jobId);
                assertThat(counts.succeeded()).isEqualTo(TASKS);
                assertThat(counts.allFinished()).isTrue();
              });
    }
  }

  /** {n_tup_upd, n_tup_hot_upd} of tasks, after flushing this connection's statistics. */
  private static long[] updates(Connection c) throws SQLException {
    TestDatabases.flushStatistics(c);
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'tasks'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }
}
