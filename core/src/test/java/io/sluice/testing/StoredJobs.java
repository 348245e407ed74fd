package io.sluice.testing;

import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.builtin.NoopJobType;
import io.sluice.store.Database;
import io.sluice.store.NewJob;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobTransitions;
import io.sluice.store.PostgresTaskStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Jobs written straight into a migrated database: the job row, its tasks from a splitter and its
 * task count, and for a running job the QUEUED → RUNNING transition. No birth event is written and
 * nothing is put on Redis.
 */
public final class StoredJobs {
  private final Database db;
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();

  public StoredJobs(Database db) {
    this.db = db;
  }

  /** A QUEUED job split by the {@code noop} splitter ({@code {"tasks": n}} payloads). */
  public UUID queued(NewJobBuilder job) {
    return queued(job.build(), new NoopJobType().splitter());
  }

  /** A QUEUED job split by {@code splitter}. */
  public UUID queued(NewJob job, Splitter splitter) {
    db.inTransaction(c -> insert(c, job, splitter));
    return job.id();
  }

  /** A RUNNING (dispatched) job split by the {@code noop} splitter. */
  public UUID running(NewJobBuilder job) {
    return running(job.build(), new NoopJobType().splitter());
  }

  /** A RUNNING (dispatched) job split by {@code splitter}. */
  public UUID running(NewJob job, Splitter splitter) {
    db.inTransaction(
        c -> {
          insert(c, job, splitter);
          return transitions.dispatched(c, job.id()).orElseThrow();
        });
    return job.id();
  }

  private int insert(Connection c, NewJob job, Splitter splitter) throws SQLException {
    if (!jobs.insert(c, job)) {
      throw new IllegalStateException("job " + job.id() + " was not inserted");
    }
    int n;
    try {
      n =
          tasks.insertTasks(
              c, job.id(), Stage.main(job.id()), splitter, new Payload(job.payload()));
    } catch (SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    jobs.setTaskCount(c, job.id(), n);
    return n;
  }
}
