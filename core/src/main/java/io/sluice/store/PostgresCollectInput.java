package io.sluice.store;

import io.sluice.api.Collector;
import io.sluice.api.Payload;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * What a job's collector reads: the job's type and payload and its finished tasks in order, on a
 * connection of the collection's own (not one of the transactions around it), streamed through a
 * cursor so a million outcomes never sit in memory at once.
 */
public final class PostgresCollectInput {
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();

  /** A collection computed from a job's input. */
  @FunctionalInterface
  public interface Collection<T> {
    T collect(String type, Payload payload, Collector.Outcomes outcomes) throws Exception;
  }

  /** Runs {@code collection} over the job's input; whatever it throws is thrown on. */
  public <T> T read(Database db, UUID jobId, Collection<T> collection) throws Exception {
    try (Connection c = db.dataSource().getConnection()) {
      String type = jobs.find(c, jobId).orElseThrow().type();
      Payload payload = new Payload(jobs.payload(c, jobId));
      // A cursor needs a transaction; it only reads, so nothing is held that a writer waits for.
      c.setAutoCommit(false);
      try {
        return collection.collect(
            type,
            payload,
            action -> {
              try {
                tasks.forEachOutcome(c, jobId, action);
              } catch (SQLException e) {
                throw new StoreException("reading task outcomes of job " + jobId + " failed", e);
              }
            });
      } finally {
        c.rollback();
        c.setAutoCommit(true);
      }
    }
  }
}
