package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Collector;
import io.sluice.api.Payload;
import io.sluice.api.Stage;
import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a job's collector reads: the job's type and payload and its finished tasks in order, on a
 * connection of the collection's own (not one of the transactions around it), streamed through a
 * cursor so a million outcomes never sit in memory at once.
 */
public final class PostgresCollectInput {
  // The whole input of many small one-stage jobs at once: each job's type and payload, then its
  // finished tasks in order (a job without any has one row of nulls).
  private static final String SMALL_INPUTS =
      """
      SELECT j.id, j.type, j.payload::text, t.seq, t.status, t.output::text, t.error, j.parent_id
        FROM jobs j
        -- Per job through the primary key: a join over the whole tasks table would scan it.
        LEFT JOIN LATERAL (
          SELECT seq, status, output, error FROM tasks
           WHERE job_id = j.id AND status IN ('SUCCEEDED', 'FAILED')
        ) t ON true
       -- Not "AND j.parent_id IS NULL": on a young table the planner would then take the partial
       -- index jobs_created (whose predicate that is) and scan all of it for the ids.
       WHERE j.id = ANY (?::uuid[])
       ORDER BY j.id, t.seq
      """;

  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();

  /** A collection computed from a job's input. */
  @FunctionalInterface
  public interface Collection<T> {
    T collect(Stage stage, String type, Payload payload, Collector.Outcomes outcomes)
        throws Exception;
  }

  /** The input of a small one-stage job, read whole by {@link #readSmall}. */
  public record Input(
      UUID jobId, String type, Payload payload, List<Collector.TaskOutcome> outcomes) {
    public Input {
      outcomes = List.copyOf(outcomes);
    }

    /** Runs {@code collection} over this input; whatever it throws is thrown on. */
    public <T> T collect(Collection<T> collection) throws Exception {
      return collection.collect(Stage.main(jobId), type, payload, outcomes::forEach);
    }
  }

  /**
   * The inputs of many one-stage jobs in one query, held in memory: only for jobs known to have few
   * tasks. A stage of a pipeline, or a job not found, is not in the answer.
   */
  public Map<UUID, Input> readSmall(Connection c, List<UUID> jobIds) throws SQLException {
    record Open(String type, Payload payload, List<Collector.TaskOutcome> outcomes) {}
    Map<UUID, Open> open = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(SMALL_INPUTS)) {
      ps.setArray(1, c.createArrayOf("uuid", jobIds.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (rs.getObject(8) != null) {
            continue; // a stage of a pipeline
          }
          UUID id = rs.getObject(1, UUID.class);
          Open o = open.get(id);
          if (o == null) {
            o =
                new Open(
                    rs.getString(2), new Payload(Json.read(rs.getString(3))), new ArrayList<>());
            open.put(id, o);
          }
          int seq = rs.getInt(4);
          if (!rs.wasNull()) {
            o.outcomes()
                .add(
                    new Collector.TaskOutcome(
                        seq,
                        "SUCCEEDED".equals(rs.getString(5)),
                        Json.read(rs.getString(6)),
                        rs.getString(7)));
          }
        }
      }
    }
    Map<UUID, Input> inputs = new HashMap<>();
    open.forEach((id, o) -> inputs.put(id, new Input(id, o.type(), o.payload(), o.outcomes())));
    return inputs;
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
