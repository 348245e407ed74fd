package io.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.store.PostgresTaskRequeue.Outcome;
import io.sluice.store.PostgresTaskRequeue.Reason;
import io.sluice.store.PostgresTaskRequeue.Refused;
import io.sluice.store.PostgresTaskRequeue.Requeued;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Requeueing a dead-lettered task against a real, migrated PostgreSQL: what it does to the task,
 * the job's counters and status and the event log, and that every refusal changes nothing.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresTaskRequeueIT {
  private static Database db;
  private final PostgresTaskRequeue requeue = new PostgresTaskRequeue();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void aFailedJobsLastFailedTaskReopensItAndRevivesTheTasksItsFailureCancelled() {
    UUID id = job("FAILED", "fail", "SUCCEEDED", "FAILED", "CANCELLED");
    long version = version(id);

    Outcome outcome = requeue(id, 1, version);

    assertThat(outcome)
        .isEqualTo(
            new Requeued(id, 1, "default", JobStatus.FAILED, JobStatus.QUEUED, version + 1, 1, 0));
    assertThat(((Requeued) outcome).reopened()).isTrue();
    assertThat(row(id))
        .as("status, version, succeeded, failed, task count, error, finished_at")
        .isEqualTo(List.of("QUEUED", version + 1, 1L, 0L, 3L, "null", "null"));
    assertThat(tasks(id)).containsExactly("0:SUCCEEDED:2:7", "1:QUEUED:0:7", "2:QUEUED:2:7");
    assertThat(events(id))
        .containsExactly(
            "STATUS:FAILED->QUEUED@" + (version + 1), "REQUEUE:null->null@" + (version + 1));
  }

  @Test
  void aFailFastJobStaysFailedUntilItsLastFailedTaskIsRequeued() {
    UUID id = job("FAILED", "fail", "FAILED", "FAILED", "CANCELLED");
    long version = version(id);

    Outcome first = requeue(id, 0, null);
    Outcome last = requeue(id, 1, null);

    assertThat(first)
        .isEqualTo(
            new Requeued(id, 0, "default", JobStatus.FAILED, JobStatus.FAILED, version + 1, 0, 0));
    assertThat(last)
        .isEqualTo(
            new Requeued(id, 1, "default", JobStatus.FAILED, JobStatus.QUEUED, version + 2, 1, 0));
    assertThat(tasks(id)).containsExactly("0:QUEUED:0:7", "1:QUEUED:0:7", "2:QUEUED:2:7");
    assertThat(row(id).subList(0, 4)).containsExactly("QUEUED", version + 2, 0L, 0L);
  }

  @Test
  void aRunningContinueJobGoesBackToQueuedForItsDispatch() {
    UUID id = job("RUNNING", "continue", "FAILED", "RUNNING", "QUEUED");

    Outcome outcome = requeue(id, 0, null);

    assertThat(((Requeued) outcome).to()).isEqualTo(JobStatus.QUEUED);
    assertThat(((Requeued) outcome).revived()).isZero();
    assertThat(tasks(id)).containsExactly("0:QUEUED:0:7", "1:RUNNING:2:7", "2:QUEUED:2:7");
  }

  @Test
  void everyRefusalChangesNothing() {
    UUID done = job("SUCCEEDED", "continue", "SUCCEEDED", "FAILED");
    UUID failed = job("FAILED", "fail", "SUCCEEDED", "FAILED");
    long version = version(failed);
    List<Object> doneBefore = row(done);
    List<Object> failedBefore = row(failed);

    assertThat(reason(requeue(done, 1, null))).isEqualTo(Reason.JOB_NOT_REQUEUABLE);
    assertThat(reason(requeue(failed, 0, null))).isEqualTo(Reason.TASK_NOT_FAILED);
    assertThat(reason(requeue(failed, 7, null))).isEqualTo(Reason.NO_TASK);
    assertThat(reason(requeue(failed, 1, version + 5))).isEqualTo(Reason.VERSION_MISMATCH);
    assertThat(reason(requeue(UUID.randomUUID(), 0, null))).isEqualTo(Reason.NO_JOB);

    assertThat(row(done)).isEqualTo(doneBefore);
    assertThat(row(failed)).isEqualTo(failedBefore);
    assertThat(tasks(failed)).containsExactly("0:SUCCEEDED:2:7", "1:FAILED:2:7");
    assertThat(events(failed)).isEmpty();
  }

  private Outcome requeue(UUID id, int seq, Long version) {
    return db.inTransaction(
        c -> requeue.requeue(c, TenantScope.ALL, id, seq, version, "tenant-a", tenant -> null));
  }

  private static Reason reason(Outcome outcome) {
    return ((Refused) outcome).reason();
  }

  /** A job in {@code status} whose tasks are in {@code taskStates}, counters to match. */
  private static UUID job(String status, String onTaskFailure, String... taskStates) {
    UUID id = UUID.randomUUID();
    long succeeded = List.of(taskStates).stream().filter("SUCCEEDED"::equals).count();
    long failed = List.of(taskStates).stream().filter("FAILED"::equals).count();
    db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
                  INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash,
                                    max_attempts, on_task_failure, task_count, tasks_succeeded,
                                    tasks_failed, error, finished_at)
                  VALUES (?, 'tenant-a', 'noop', 'default', ?, '{}', 'h', 3, ?, ?, ?, ?,
                          CASE WHEN ? = 'FAILED' THEN 'task failed' END,
                          CASE WHEN ? IN ('FAILED', 'SUCCEEDED') THEN now() END)
                  """)) {
            ps.setObject(1, id);
            ps.setString(2, status);
            ps.setString(3, onTaskFailure);
            ps.setInt(4, taskStates.length);
            ps.setLong(5, succeeded);
            ps.setLong(6, failed);
            ps.setString(7, status);
            ps.setString(8, status);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
                  INSERT INTO tasks (job_id, seq, status, attempt, lease_epoch, input, error)
                  VALUES (?, ?, ?, 2, 7, '{}', CASE WHEN ? = 'FAILED' THEN 'boom' END)
                  """)) {
            for (int seq = 0; seq < taskStates.length; seq++) {
              ps.setObject(1, id);
              ps.setInt(2, seq);
              ps.setString(3, taskStates[seq]);
              ps.setString(4, taskStates[seq]);
              ps.addBatch();
            }
            ps.executeBatch();
          }
          return null;
        });
    return id;
  }

  private static long version(UUID id) {
    return (Long) row(id).get(1);
  }

  /** status, version, succeeded, failed, task count, error, finished_at ("null" when unset). */
  private static List<Object> row(UUID id) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT status, version, tasks_succeeded, tasks_failed, task_count, error,"
                      + " finished_at FROM jobs WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return List.of(
                  rs.getString(1),
                  rs.getLong(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  String.valueOf(rs.getString(6)),
                  String.valueOf(rs.getObject(7)));
            }
          }
        });
  }

  /** Each task as {@code seq:status:attempt:leaseEpoch}. */
  private static List<String> tasks(UUID id) {
    return strings(
        "SELECT seq || ':' || status || ':' || attempt || ':' || lease_epoch FROM tasks"
            + " WHERE job_id = ? ORDER BY seq",
        id);
  }

  /** Each event as {@code KIND:from->to@version}. */
  private static List<String> events(UUID id) {
    return strings(
        "SELECT kind || ':' || coalesce(from_status, 'null') || '->' || coalesce(to_status, 'null')"
            + " || '@' || job_version FROM job_events WHERE job_id = ? ORDER BY id",
        id);
  }

  private static List<String> strings(String sql, UUID id) {
    return db.query(c -> strings(c, sql, id));
  }

  private static List<String> strings(Connection c, String sql, UUID id) throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
