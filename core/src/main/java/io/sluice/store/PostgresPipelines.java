package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import io.sluice.json.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline state machine above its stages' own: what a pipeline does when one of its stages
 * moved. {@link #advance} runs in the transaction of that move (a stage's collect commit, a task
 * failure that failed a stage) and first locks the pipeline's row, so two stages finishing at the
 * same instant queue on that lock and the second sees the first one's commit: a stage whose
 * dependencies have all SUCCEEDED is split exactly once (its WAITING → QUEUED is the fence), in the
 * same transaction as the commit that made it ready.
 *
 * <ul>
 *   <li>a FAILED stage fails the pipeline (the stage named in its error) and cancels every stage
 *       that has not finished, with their tasks;
 *   <li>otherwise every WAITING stage whose dependencies all SUCCEEDED is split; a splitter that
 *       throws fails that stage, which fails the pipeline;
 *   <li>when every stage SUCCEEDED the pipeline SUCCEEDED, its result keyed by the stages no other
 *       stage depends on (the one stage's result for a pipeline of one stage).
 * </ul>
 *
 * Repeating it changes nothing, so the sweeper may call it for any pipeline it suspects.
 */
public final class PostgresPipelines {
  private static final Logger log = LoggerFactory.getLogger(PostgresPipelines.class);

  private static final String LOCK =
      "SELECT status FROM jobs WHERE id = ? AND stage_count > 0 FOR UPDATE";

  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();

  /** The splitter of a stage's type; empty when the type is unknown here. */
  @FunctionalInterface
  public interface Splitters {
    Optional<Splitter> of(String type);
  }

  /**
   * What an advance did: the stages it split (to dispatch after the commit) and whether the
   * pipeline reached a terminal status (its Redis keys can go).
   */
  public record Advanced(List<Job> split, boolean ended) {
    static final Advanced NOTHING = new Advanced(List.of(), false);
  }

  /**
   * Moves the pipeline on after one of its stages moved, in the caller's transaction. With {@code
   * splitters} null (a worker's commit, which only ever fails a stage) ready stages are left for
   * the coordinator.
   */
  public Advanced advance(Connection c, UUID pipelineId, Splitters splitters) throws SQLException {
    JobStatus status = lock(c, pipelineId);
    if (status == null || status.isTerminal()) {
      return Advanced.NOTHING;
    }
    List<Job> stages = jobs.stagesOf(c, pipelineId);
    Optional<Job> failed = stages.stream().filter(s -> s.status() == JobStatus.FAILED).findFirst();
    if (failed.isPresent()) {
      fail(c, pipelineId, stages, failed.get());
      return new Advanced(List.of(), true);
    }
    if (splitters == null) {
      return Advanced.NOTHING;
    }
    Map<String, Job> byName = new LinkedHashMap<>();
    stages.forEach(s -> byName.put(s.stageName(), s));
    List<Job> split = new ArrayList<>();
    for (Job stage : stages) {
      if (stage.status() == JobStatus.WAITING && ready(stage, byName)) {
        Optional<String> error = split(c, pipelineId, stage, byName, splitters);
        if (error.isPresent()) {
          return failBySplit(c, pipelineId, stage, error.get());
        }
        split.add(jobs.find(c, stage.id()).orElseThrow());
      }
    }
    if (split.isEmpty()
        && stages.stream().allMatch(s -> s.status() == JobStatus.SUCCEEDED)
        && transitions.pipelineSucceeded(c, pipelineId, Json.write(result(stages))).isPresent()) {
      return new Advanced(List.of(), true);
    }
    return new Advanced(split, false);
  }

  /**
   * Cancels every stage of a pipeline that has not finished, with their tasks, in the caller's
   * transaction (the pipeline's own cancel); returns how many tasks were cancelled.
   */
  public int cancelStages(Connection c, UUID pipelineId, String why) throws SQLException {
    int cancelled = 0;
    for (Job stage : jobs.stagesOf(c, pipelineId)) {
      if (!stage.status().isTerminal()) {
        cancelled += tasks.cancelUnfinished(c, stage.id());
        transitions.stageCancelled(c, stage.id(), why);
      }
    }
    return cancelled;
  }

  private static boolean ready(Job stage, Map<String, Job> byName) {
    return stage.dependsOn().stream()
        .allMatch(d -> byName.containsKey(d) && byName.get(d).status() == JobStatus.SUCCEEDED);
  }

  /** Splits a ready stage; the error when its type is unknown or its splitter threw. */
  private Optional<String> split(
      Connection c, UUID pipelineId, Job stage, Map<String, Job> byName, Splitters splitters)
      throws SQLException {
    Optional<Splitter> splitter = splitters.of(stage.type());
    if (splitter.isEmpty()) {
      return Optional.of("job type '" + stage.type() + "' is not on this coordinator's classpath");
    }
    Map<String, JsonNode> results = new LinkedHashMap<>();
    stage.dependsOn().forEach(d -> results.put(d, byName.get(d).result()));
    Stage context = new Stage(pipelineId, stage.stageName(), results);
    Payload payload = new Payload(jobs.payload(c, stage.id()));
    // The split runs inside the commit that made the stage ready; a splitter that throws must fail
    // the stage without undoing that commit, so its rows are rolled back to here.
    Savepoint before = c.setSavepoint();
    int count;
    try {
      count = tasks.insertTasks(c, stage.id(), context, splitter.get(), payload);
    } catch (SQLException e) {
      throw e;
    } catch (InvalidPayloadException e) {
      c.rollback(before);
      return Optional.of("split failed: " + e.getMessage());
    } catch (Exception e) {
      c.rollback(before);
      return Optional.of("split failed: " + (e.getMessage() == null ? e : e.getMessage()));
    }
    c.releaseSavepoint(before);
    transitions.split(c, stage.id(), pipelineId, count);
    log.debug("Pipeline {}: stage {} split into {} task(s)", pipelineId, stage.stageName(), count);
    return Optional.empty();
  }

  private Advanced failBySplit(Connection c, UUID pipelineId, Job stage, String error)
      throws SQLException {
    // WAITING → QUEUED (no tasks) → FAILED: the stage's own events tell what happened.
    transitions.split(c, stage.id(), pipelineId, 0);
    transitions.failedByTask(c, stage.id(), error);
    Job failed = jobs.find(c, stage.id()).orElseThrow();
    fail(c, pipelineId, jobs.stagesOf(c, pipelineId), failed);
    return new Advanced(List.of(), true);
  }

  private void fail(Connection c, UUID pipelineId, List<Job> stages, Job failed)
      throws SQLException {
    String error = "stage '" + failed.stageName() + "' failed: " + failed.error();
    String why = "stage '" + failed.stageName() + "' failed";
    int cancelled = 0;
    for (Job stage : stages) {
      if (!stage.status().isTerminal() && !stage.id().equals(failed.id())) {
        cancelled += tasks.cancelUnfinished(c, stage.id());
        transitions.stageCancelled(c, stage.id(), why);
      }
    }
    transitions.failedByTask(c, pipelineId, error);
    log.warn(
        "Pipeline {} FAILED ({}); {} task(s) of other stages cancelled",
        pipelineId,
        error,
        cancelled);
  }

  /** One stage's result; or an object keyed by the name of every stage no other depends on. */
  private static JsonNode result(List<Job> stages) {
    if (stages.size() == 1) {
      return stages.get(0).result();
    }
    Set<String> depended = new HashSet<>();
    stages.forEach(s -> depended.addAll(s.dependsOn()));
    ObjectNode result = Json.object();
    for (Job s : stages) {
      if (!depended.contains(s.stageName())) {
        result.set(s.stageName(), s.result());
      }
    }
    return result;
  }

  private static JobStatus lock(Connection c, UUID pipelineId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK)) {
      ps.setObject(1, pipelineId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? JobStatus.valueOf(rs.getString(1)) : null;
      }
    }
  }
}
