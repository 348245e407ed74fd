package io.sluice.worker;

import io.sluice.store.ClaimedTask;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import io.sluice.testing.NewJobBuilder;
import io.sluice.testing.StoredJobs;
import io.sluice.worker.redis.JedisTaskQueue;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

/** Jobs and tasks written straight into a test's PostgreSQL and Redis, as a coordinator would. */
final class TestJobs {
  /** One task row as the tests read it. */
  record TaskRow(String status, int attempt, long leaseEpoch, String output, String error) {}

  private final Database db;
  private final JedisTaskQueue queue;
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final StoredJobs stored;

  TestJobs(Database db, JedisTaskQueue queue) {
    this.db = db;
    this.queue = queue;
    this.stored = new StoredJobs(db);
  }

  /** A RUNNING job as {@code job} describes it, split by the {@code noop} splitter. */
  UUID createRunningJob(NewJobBuilder job) {
    return stored.running(job);
  }

  /** Appends every task of the job to the queue's ready stream, as dispatch does. */
  void enqueue(String queueName, UUID jobId, int taskCount) {
    List<Integer> seqs = IntStream.range(0, taskCount).boxed().toList();
    for (int from = 0; from < taskCount; from += 1000) {
      queue.enqueue(queueName, jobId, seqs.subList(from, Math.min(taskCount, from + 1000)));
    }
  }

  ClaimedTask claim(String workerId, Duration lease, UUID jobId, int seq) {
    List<ClaimedTask> claimed =
        db.query(c -> tasks.claim(c, workerId, lease, List.of(new TaskRef(jobId, seq))));
    if (claimed.size() != 1) {
      throw new IllegalStateException("task " + jobId + "/" + seq + " was not claimable");
    }
    return claimed.get(0);
  }

  /** Lets every RUNNING lease of the job lapse, as a long pause would. */
  void expireLeases(UUID jobId) {
    execute(
        "UPDATE tasks SET lease_expires_at = now() - interval '1 second'"
            + " WHERE job_id = ? AND status = 'RUNNING'",
        jobId);
  }

  TaskRow task(UUID jobId, int seq) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT status, attempt, lease_epoch, output::text, error FROM tasks"
                      + " WHERE job_id = ? AND seq = ?")) {
            ps.setObject(1, jobId);
            ps.setInt(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return new TaskRow(
                  rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getString(4), rs.getString(5));
            }
          }
        });
  }

  List<String> statuses(UUID jobId) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT status FROM tasks WHERE job_id = ? ORDER BY seq")) {
            ps.setObject(1, jobId);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
            return out;
          }
        });
  }

  /** How many rows the query counts; its parameters are bound in order. */
  long count(String sql, Object... params) {
    return db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
              ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  void execute(String sql, Object... params) {
    db.query(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
              ps.setObject(i + 1, params[i]);
            }
            return ps.execute();
          }
        });
  }

  Job job(UUID id) {
    return db.query(c -> jobs.find(c, id)).orElseThrow();
  }
}
