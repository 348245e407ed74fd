package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.testing.StoredJobs;
import io.sluice.testing.TestDatabases;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batch statements that take their rows as arrays (a worker's completions, renewals and
 * progress, the time-limit sweep, the collections' end) stay linear in the batch under the plan a
 * pooled connection ends up with: the generic plan, which guesses ten rows for every {@code unnest}
 * of a parameter. Joining the input against the locked rows (two CTEs) was then a nested loop over
 * both, comparing every input row with every locked one: a completion batch of 1,000 tasks compared
 * 999,000 pairs and took 640 ms at the end of a 1,000,000-task job (BENCHMARKS.md, issue 11, sixth
 * sitting). The locked rows now carry the input's columns and the update joins them to the table by
 * its key; the test runs each statement on a big batch under a forced generic plan and counts the
 * pairs its join filters threw away.
 */
@ExtendWith(SluiceTestExtension.class)
class BatchStatementPlansIT {
  private static final int TASKS = 2_000;
  private static final int JOBS = 500;

  private static Database db;
  private static TestEnvironment env;
  private static UUID job;
  private static List<Long> jobVersions;
  private static List<UUID> collecting;

  @BeforeAll
  static void seed(TestEnvironment environment) throws SQLException {
    env = environment;
    db = TestDatabases.migrated(env);
    StoredJobs stored = new StoredJobs(db);
    job = stored.running(aJob().withTasks(TASKS));
    collecting = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      collecting.add(stored.running(aJob().withTasks(1)));
    }
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      // Statistics taken while no task runs, as a leader's ANALYZE may be: the planner then
      // believes the partial index of running tasks holds next to nothing, and scanning all of it
      // once per locked row looks cheap.
      st.execute("ANALYZE tasks, jobs");
      st.execute(
          "UPDATE tasks SET status = 'RUNNING', lease_epoch = 1, attempt = 1,"
              + " started_at = now() - interval '1 hour', lease_expires_at = now() + interval '1 hour'"
              + " WHERE job_id = '"
              + job
              + "'");
      st.execute(
          "UPDATE jobs SET task_timeout_ms = 1000 WHERE id = '"
              + job
              + "'; UPDATE jobs SET status = 'COLLECTING' WHERE id = ANY("
              + uuidArray(collecting)
              + ")");
      jobVersions = new ArrayList<>();
      for (UUID id : collecting) {
        try (ResultSet rs = st.executeQuery("SELECT version FROM jobs WHERE id = '" + id + "'")) {
          rs.next();
          jobVersions.add(rs.getLong(1));
        }
      }
    }
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void aCompletionBatchIsLinearInItsTasks() throws SQLException {
    Plan plan =
        explainOnClaims(
            PostgresTaskStore.COMPLETE_AND_COUNT,
            texts(TASKS, i -> "SUCCEEDED"),
            texts(TASKS, i -> "{\"n\":" + i + "}"),
            texts(TASKS, i -> null),
            bigints(TASKS, i -> 0L),
            "'HANDED_BACK'");
    assertThat(plan.rowsOut()).as("tasks completed").isEqualTo(TASKS + 1);
    assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(TASKS);
  }

  @Test
  void aClaimBatchIsLinearInItsTasks() throws SQLException {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute("UPDATE tasks SET status = 'QUEUED' WHERE job_id = '" + job + "'");
    }
    try {
      Plan plan =
          explainGeneric(
              PostgresTaskStore.CLAIM,
              uuidArray(Collections.nCopies(TASKS, job)),
              seqs(),
              "'worker-1'",
              "60000",
              "'RECLAIM'",
              "'worker-1'");
      assertThat(plan.rowsOut()).as("tasks claimed").isEqualTo(TASKS);
      assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(TASKS);
    } finally {
      try (Connection c = connect();
          Statement st = c.createStatement()) {
        st.execute("UPDATE tasks SET status = 'RUNNING' WHERE job_id = '" + job + "'");
      }
    }
  }

  @Test
  void aRenewalBatchIsLinearInItsTasks() throws SQLException {
    Plan plan = explainOnClaims(PostgresTaskStore.RENEW, "60000");
    assertThat(plan.rowsOut()).as("leases renewed").isEqualTo(TASKS);
    assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(TASKS);
  }

  @Test
  void aReclaimAndAHandBackAreLinearInTheirTasks() throws SQLException {
    Plan reclaim = explainOnClaims(PostgresTaskRecovery.RECLAIM, "'RECLAIM'");
    assertThat(reclaim.pairsFiltered()).as("pairs the reclaim threw away").isLessThan(TASKS);
    Plan handBack = explainOnClaims(PostgresTaskRecovery.HAND_BACK, "'worker-1'", "'HANDED_BACK'");
    assertThat(handBack.rowsOut()).as("tasks handed back").isEqualTo(TASKS);
    assertThat(handBack.pairsFiltered()).as("pairs the hand-back threw away").isLessThan(TASKS);
  }

  @Test
  void aProgressBatchIsLinearInItsTasks() throws SQLException {
    Plan plan =
        explainOnClaims(
            PostgresTaskProgress.WRITE,
            "'{" + String.join(",", Collections.nCopies(TASKS, "0.5")) + "}'::real[]",
            texts(TASKS, i -> "phase"),
            texts(TASKS, i -> "halfway"));
    assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(TASKS);
  }

  @Test
  void aTimeOutBatchIsLinearInItsTasks() throws SQLException {
    Plan plan =
        explainOnClaims(
            PostgresTimeLimits.TIME_OUT,
            texts(TASKS, i -> "timed out"),
            bigints(TASKS, i -> 1000L),
            "'TIMED_OUT'");
    assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(TASKS);
  }

  @Test
  void theEndOfABatchOfCollectionsIsLinearInItsJobs() throws SQLException {
    Plan plan =
        explainGeneric(
            PostgresJobTransitions.COLLECTIONS_ENDED,
            uuidArray(collecting),
            bigints(JOBS, jobVersions::get),
            texts(JOBS, i -> "SUCCEEDED"),
            texts(JOBS, i -> "{\"ok\":true}"),
            texts(JOBS, i -> null),
            "'STATUS'");
    assertThat(plan.rowsOut()).as("jobs ended").isEqualTo(JOBS);
    assertThat(plan.pairsFiltered()).as("pairs the join filters threw away").isLessThan(JOBS);
  }

  /**
   * {@link #explainGeneric} of a statement whose first three parameters are the claims it acts on
   * (job ids, seqs, lease epochs): every task of the big job, at epoch 1.
   */
  private static Plan explainOnClaims(String jdbcSql, String... rest) throws SQLException {
    String[] literals = new String[rest.length + 3];
    literals[0] = uuidArray(Collections.nCopies(TASKS, job));
    literals[1] = seqs();
    literals[2] = bigints(TASKS, i -> 1L);
    System.arraycopy(rest, 0, literals, 3, rest.length);
    return explainGeneric(jdbcSql, literals);
  }

  /** The rows the statement returned, and the rows every join filter of its plan removed. */
  private record Plan(long rowsOut, long pairsFiltered) {}

  /**
   * Runs {@code jdbcSql} once under its generic plan (as {@code EXPLAIN ANALYZE}, in a transaction
   * rolled back after), its {@code ?} parameters given as SQL literals in order.
   */
  private static Plan explainGeneric(String jdbcSql, String... literals) throws SQLException {
    StringBuilder numbered = new StringBuilder();
    int n = 0;
    for (char ch : jdbcSql.toCharArray()) {
      if (ch == '?') {
        numbered.append('$').append(++n);
      } else {
        numbered.append(ch);
      }
    }
    assertThat(literals).as("parameters of the statement").hasSize(n);
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SET LOCAL plan_cache_mode = force_generic_plan");
      st.execute("PREPARE batch AS " + numbered);
      String explain =
          "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE batch(" + String.join(", ", literals) + ")";
      try (PreparedStatement ps = c.prepareStatement(explain);
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        JsonNode root = Json.read(rs.getString(1)).get(0).get("Plan");
        return new Plan(root.path("Actual Rows").asLong(), filtered(root));
      } finally {
        c.rollback();
      }
    }
  }

  private static long filtered(JsonNode node) {
    long sum = node.path("Rows Removed by Join Filter").asLong(0);
    for (JsonNode child : node.path("Plans")) {
      sum += filtered(child);
    }
    return sum;
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword());
  }

  private static String uuidArray(List<UUID> ids) {
    return ids.stream().map(UUID::toString).collect(Collectors.joining(",", "'{", "}'::uuid[]"));
  }

  private static String seqs() {
    return IntStream.range(0, TASKS)
        .mapToObj(Integer::toString)
        .collect(Collectors.joining(",", "'{", "}'::int[]"));
  }

  private static String bigints(int size, IntFunction<Long> value) {
    return IntStream.range(0, size)
        .mapToObj(i -> Long.toString(value.apply(i)))
        .collect(Collectors.joining(",", "'{", "}'::int8[]"));
  }

  /** A text[] literal: each element double-quoted with its quotes and backslashes escaped. */
  private static String texts(int size, IntFunction<String> value) {
    return IntStream.range(0, size)
        .mapToObj(value)
        .map(
            v ->
                v == null
                    ? "NULL"
                    : "\""
                        + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("'", "''")
                        + "\"")
        .collect(Collectors.joining(",", "'{", "}'::text[]"));
  }
}
