package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.store.PostgresJobSubmission.Created;
import io.sluice.store.PostgresJobSubmission.KeyTaken;
import io.sluice.store.PostgresJobSubmission.OverQuota;
import io.sluice.store.PostgresJobSubmission.QuotaExceededException;
import io.sluice.store.PostgresJobSubmission.Stored;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link PostgresJobSubmission#storeGroup} against a real PostgreSQL: many jobs in a fixed number
 * of statements, each with its tasks, events and quota place; keys taken answered per job; and the
 * race of two groups sharing idempotency keys in opposite orders, which must neither deadlock nor
 * make two jobs of one key.
 */
@ExtendWith(SluiceTestExtension.class)
class GroupSubmissionIT {
  private static Database db;
  private static final PostgresJobSubmission submission = new PostgresJobSubmission();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  private static PreparedJob prepared(String tenant, String key, int tasks, Integer quota) {
    NewJob job = aJob().withTenant(tenant).withIdempotencyKey(key).withTasks(tasks).build();
    List<String> inputs = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      inputs.add(Json.write(Json.object().put("i", i).put("text", "tab\there\\")));
    }
    return new PreparedJob(job, inputs, quota);
  }

  @Test
  void aGroupStoresEveryJobWithItsTasksAndEventsAndAnswersInOrder() throws SQLException {
    List<PreparedJob> group = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      group.add(prepared("t-order", null, i % 4, null));
    }
    List<Stored> stored = db.inTransaction(c -> submission.storeGroup(c, group, false));
    assertThat(stored).hasSize(50);
    for (int i = 0; i < 50; i++) {
      Job job = ((Created) stored.get(i)).job();
      assertThat(job.id()).isEqualTo(group.get(i).job().id());
      assertThat(job.taskCount()).isEqualTo(i % 4);
      assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
    }
    assertThat(
            count(
                "SELECT count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id"
                    + " WHERE j.tenant = 't-order'"))
        .isEqualTo(group.stream().mapToLong(p -> p.inputs().size()).sum());
    assertThat(
            count(
                "SELECT count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id"
                    + " WHERE j.tenant = 't-order' AND t.input->>'text' = E'tab\\there\\\\'"))
        .as("COPY escaped tabs and backslashes")
        .isEqualTo(group.stream().mapToLong(p -> p.inputs().size()).sum());
    assertThat(
            count(
                "SELECT count(*) FROM job_events e JOIN jobs j ON j.id = e.job_id"
                    + " WHERE j.tenant = 't-order' AND e.to_status = 'QUEUED' AND e.job_version = 1"))
        .isEqualTo(50);
    assertThat(count("SELECT active_jobs FROM tenant_active_jobs WHERE tenant = 't-order'"))
        .isEqualTo(50);
  }

  @Test
  void aKeyTakenBeforeOrEarlierInTheGroupIsAnsweredPerJob() {
    db.inTransaction(
        c -> submission.storeGroup(c, List.of(prepared("t-keys", "k1", 1, null)), false));
    List<PreparedJob> group =
        List.of(
            prepared("t-keys", "k1", 2, null),
            prepared("t-keys", "k2", 1, null),
            prepared("t-keys", "k2", 1, null),
            prepared("t-keys", null, 1, null));
    List<Stored> stored = db.inTransaction(c -> submission.storeGroup(c, group, false));
    assertThat(stored.get(0)).isInstanceOf(KeyTaken.class);
    assertThat(stored.get(1)).isInstanceOf(Created.class);
    assertThat(stored.get(2)).isInstanceOf(KeyTaken.class);
    assertThat(stored.get(3)).isInstanceOf(Created.class);
  }

  @Test
  void aTenantWithoutRoomForTheGroupIsLeftToSingleStoresOrRefusedWhole() throws SQLException {
    List<PreparedJob> group = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      group.add(prepared("t-quota", null, 1, 3));
    }
    group.add(prepared("t-free", null, 1, 3));
    List<Stored> stored = db.inTransaction(c -> submission.storeGroup(c, group, false));
    assertThat(stored.subList(0, 4)).containsOnlyNulls();
    assertThat(stored.get(4)).isInstanceOf(Created.class);
    assertThat(count("SELECT count(*) FROM jobs WHERE tenant = 't-quota'"))
        .as("the tenant's jobs were removed again, tasks and events with them")
        .isZero();
    int created = 0;
    for (int i = 0; i < 4; i++) {
      PreparedJob one = group.get(i);
      Stored alone = db.inTransaction(c -> submission.storeGroup(c, List.of(one), false)).get(0);
      if (alone instanceof Created) {
        created++;
      } else {
        assertThat(alone).isInstanceOf(OverQuota.class);
      }
    }
    assertThat(created).isEqualTo(3);
    List<PreparedJob> tooMany =
        List.of(
            prepared("t-free", null, 1, 3),
            prepared("t-free", null, 1, 3),
            prepared("t-free", null, 1, 3));
    assertThatThrownBy(() -> db.inTransaction(c -> submission.storeGroup(c, tooMany, true)))
        .isInstanceOf(QuotaExceededException.class);
    assertThat(count("SELECT count(*) FROM jobs WHERE tenant = 't-free'")).isEqualTo(1);
  }

  /**
   * Two groups, the same keys in opposite orders, committed at once, many rounds: one job per key
   * and no deadlock (inserts are ordered by key, so both take their index locks in one order).
   */
  @Test
  void twoGroupsSharingKeysNeverDeadlockAndMakeOneJobPerKey() throws Exception {
    long deadlocksBefore = deadlocks();
    try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
      for (int round = 0; round < 100; round++) {
        List<PreparedJob> a = new ArrayList<>();
        List<PreparedJob> b = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
          a.add(prepared("t-race", "r" + round + "-" + k, 1, null));
          b.add(prepared("t-race", "r" + round + "-" + k, 1, null));
        }
        Collections.reverse(b);
        CyclicBarrier start = new CyclicBarrier(2);
        Future<List<Stored>> fa = pool.submit(() -> store(start, a));
        Future<List<Stored>> fb = pool.submit(() -> store(start, b));
        List<Stored> sa = fa.get();
        List<Stored> sb = fb.get();
        for (int k = 0; k < 20; k++) {
          Stored x = sa.get(k);
          Stored y = sb.get(19 - k);
          assertThat(x instanceof Created ^ y instanceof Created)
              .as("round %d key %d: exactly one of the two groups created it", round, k)
              .isTrue();
        }
      }
    }
    assertThat(count("SELECT count(*) FROM jobs WHERE tenant = 't-race'")).isEqualTo(100 * 20);
    assertThat(deadlocks() - deadlocksBefore).as("deadlocks detected by PostgreSQL").isZero();
  }

  private static List<Stored> store(CyclicBarrier start, List<PreparedJob> group) throws Exception {
    start.await();
    return db.inTransaction(c -> submission.storeGroup(c, group, false));
  }

  /** Deadlocks PostgreSQL detected in this database (statistics flush within a second). */
  private static long deadlocks() throws Exception {
    Thread.sleep(1_500);
    return db.query(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_stat_force_next_flush()");
          }
          return single(
              c, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
        });
  }

  private static long count(String sql) throws SQLException {
    return db.query(c -> single(c, sql));
  }

  private static long single(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }
}
