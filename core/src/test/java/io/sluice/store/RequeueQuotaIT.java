package io.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.store.PostgresTaskRequeue.Outcome;
import io.sluice.store.PostgresTaskRequeue.Reason;
import io.sluice.store.PostgresTaskRequeue.Refused;
import io.sluice.store.PostgresTaskRequeue.Requeued;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A requeue that reopens a FAILED job makes it active again, so it takes a place in its tenant's
 * quota: checked and counted under the tenant's usage row lock, so concurrent requeues never take a
 * tenant past its quota; and a requeue outside the caller's scope finds no job.
 */
@ExtendWith(SluiceTestExtension.class)
class RequeueQuotaIT {
  private static final int QUOTA = 2;
  private static final int JOBS = 6;
  private static Database db;
  private final PostgresTaskRequeue requeue = new PostgresTaskRequeue();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 8), "test");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @RepeatedTest(3)
  void concurrentRequeuesReopeningOneTenantsJobsNeverExceedItsQuota() throws Exception {
    String tenant = "race-" + UUID.randomUUID().toString().substring(0, 8);
    List<UUID> jobs = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      jobs.add(failedJob(tenant));
    }
    CyclicBarrier start = new CyclicBarrier(JOBS);
    List<Outcome> outcomes = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(JOBS)) {
      List<Callable<Outcome>> calls = new ArrayList<>();
      for (UUID id : jobs) {
        calls.add(
            () -> {
              start.await();
              return db.inTransaction(
                  c -> requeue.requeue(c, TenantScope.of(tenant), id, 0, null, tenant, t -> QUOTA));
            });
      }
      for (Future<Outcome> f : pool.invokeAll(calls)) {
        outcomes.add(f.get());
      }
    }

    assertThat(outcomes).filteredOn(o -> o instanceof Requeued).hasSize(QUOTA);
    assertThat(outcomes)
        .filteredOn(o -> o instanceof Refused r && r.reason() == Reason.OVER_QUOTA)
        .hasSize(JOBS - QUOTA);
    assertThat(count("SELECT count(*) FROM jobs WHERE tenant = ? AND status = 'QUEUED'", tenant))
        .isEqualTo(QUOTA);
    assertThat(count("SELECT active_jobs FROM tenant_active_jobs WHERE tenant = ?", tenant))
        .isEqualTo(QUOTA);
    assertThat(
            count(
                "SELECT count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id"
                    + " WHERE j.tenant = ? AND t.status = 'FAILED'",
                tenant))
        .as("a refused requeue leaves its task FAILED")
        .isEqualTo(JOBS - QUOTA);
  }

  @Test
  void aRequeueOfAnotherTenantsJobFindsNoJobAndChangesNothing() {
    String owner = "owner-" + UUID.randomUUID().toString().substring(0, 8);
    UUID id = failedJob(owner);

    Outcome outcome =
        db.inTransaction(
            c -> requeue.requeue(c, TenantScope.of("intruder"), id, 0, null, "x", t -> null));

    assertThat(((Refused) outcome).reason()).isEqualTo(Reason.NO_JOB);
    assertThat(count("SELECT count(*) FROM jobs WHERE tenant = ? AND status = 'FAILED'", owner))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM job_events WHERE job_id = ?::text::uuid", id.toString()))
        .isZero();
  }

  /** A FAILED job of {@code tenant} with one FAILED task, counted as no active job. */
  private static UUID failedJob(String tenant) {
    UUID id = UUID.randomUUID();
    db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
                  INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash,
                                    max_attempts, on_task_failure, task_count, tasks_succeeded,
                                    tasks_failed, error, finished_at)
                  VALUES (?, ?, 'noop', 'default', 'FAILED', '{}', 'h', 3, 'fail', 1, 0, 1,
                          'task failed', now())
                  """)) {
            ps.setObject(1, id);
            ps.setString(2, tenant);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
                  INSERT INTO tasks (job_id, seq, status, attempt, lease_epoch, input, error)
                  VALUES (?, 0, 'FAILED', 3, 1, '{}', 'boom')
                  """)) {
            ps.setObject(1, id);
            ps.executeUpdate();
          }
          return null;
        });
    return id;
  }

  private static long count(String sql, String arg) {
    return db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getLong(1) : 0;
            }
          }
        });
  }
}
