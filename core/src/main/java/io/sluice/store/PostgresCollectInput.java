package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector;
import io.sluice.api.Payload;
import io.sluice.api.Stage;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
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
    T collect(Stage stage, String type, Payload payload, Collector.Outcomes outcomes)
        throws Exception;
  }

  /** Runs {@code collection} over the job's input; whatever it throws is thrown on. */
  public <T> T read(Database db, UUID jobId, Collection<T> collection) throws Exception {
    try (Connection c = db.dataSource().getConnection()) {
      Job job = jobs.find(c, jobId).orElseThrow();
      String type = job.type();
      Payload payload = new Payload(jobs.payload(c, jobId));
      Stage stage = stage(c, job);
      // A cursor needs a transaction; it only reads, so nothing is held that a writer waits for.
      c.setAutoCommit(false);
      try {
        return collection.collect(
            stage,
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

  /** The stage a row collects for: {@code main} of a one-stage job, or a pipeline's stage. */
  private Stage stage(Connection c, Job job) throws SQLException {
    if (!job.isStage()) {
      return Stage.main(job.id());
    }
    Map<String, JsonNode> results = new LinkedHashMap<>();
    for (Job other : jobs.stagesOf(c, job.parentId())) {
      if (job.dependsOn().contains(other.stageName())) {
        results.put(other.stageName(), other.result());
      }
    }
    return new Stage(job.parentId(), job.stageName(), results);
  }
}
