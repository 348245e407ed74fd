package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.JobStatus;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresJobStore.Transition;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Collects a job whose tasks are all finished. The gate is one compare-and-set, RUNNING →
 * COLLECTING, that also checks PostgreSQL's counts: a duplicate or early trigger changes nothing.
 * The result and SUCCEEDED are committed together, fenced by the version the gate returned, so even
 * a collection repeated after a crash commits its result once.
 */
final class JobCollector {
  private static final Logger log = LoggerFactory.getLogger(JobCollector.class);

  private final Database db;
  private final PostgresJobStore jobs;
  private final PostgresTaskStore tasks;
  private final JobTypeRegistry types;
  private final LettuceCoordination redis;
  private final Duration collectingGrace;
  private final Counter collected;
  private final Counter duplicateTriggers;

  JobCollector(
      Database db,
      JobTypeRegistry types,
      LettuceCoordination redis,
      Duration collectingGrace,
      MeterRegistry metrics) {
    this.db = db;
    this.jobs = new PostgresJobStore();
    this.tasks = new PostgresTaskStore();
    this.types = types;
    this.redis = redis;
    this.collectingGrace = collectingGrace;
    this.collected = metrics.counter("sluice_jobs_collected_total");
    this.duplicateTriggers = metrics.counter("sluice_collect_triggers_ignored_total");
  }

  /** Collects the job if it is ready and nobody else is collecting it; otherwise does nothing. */
  void collect(UUID jobId) {
    OptionalLong gate =
        db.inTransaction(
            c ->
                jobs.transition(
                    c,
                    new Transition(
                        jobId,
                        List.of(JobStatus.QUEUED, JobStatus.RUNNING),
                        JobStatus.COLLECTING,
                        null,
                        true,
                        null,
                        null)));
    if (gate.isEmpty()) {
      gate = db.inTransaction(c -> jobs.takeOverStaleCollecting(c, jobId, collectingGrace));
    }
    if (gate.isEmpty()) {
      duplicateTriggers.increment();
      return;
    }
    MDC.put("jobId", jobId.toString());
    try {
      finish(jobId, gate.getAsLong());
    } finally {
      MDC.remove("jobId");
    }
  }

  private void finish(UUID jobId, long version) {
    String type = db.query(c -> jobs.find(c, jobId)).orElseThrow().type();
    JobType jobType = types.find(type).orElse(null);
    Transition end;
    try {
      if (jobType == null) {
        throw new IllegalStateException(
            "job type '" + type + "' is not on this coordinator's classpath");
      }
      JsonNode result = db.query(c -> run(c, jobId, jobType.collector()));
      end =
          new Transition(
              jobId,
              List.of(JobStatus.COLLECTING),
              JobStatus.SUCCEEDED,
              version,
              false,
              null,
              Json.write(result));
    } catch (RuntimeException e) {
      log.warn("Collector of job {} failed; the job fails: {}", jobId, e.toString());
      end =
          new Transition(
              jobId,
              List.of(JobStatus.COLLECTING),
              JobStatus.FAILED,
              version,
              false,
              "collector failed: " + e.getMessage(),
              null);
    }
    Transition commit = end;
    OptionalLong done = db.inTransaction(c -> jobs.transition(c, commit));
    if (done.isPresent()) {
      collected.increment();
      log.info("Job {} {}", jobId, commit.to());
      redis.deleteJobKeys(jobId);
    } else {
      log.info(
          "Job {} was collected by another coordinator meanwhile; this result is discarded", jobId);
    }
  }

  private JsonNode run(Connection c, UUID jobId, Collector collector) throws SQLException {
    JsonNode payload = jobs.payload(c, jobId);
    // A cursor needs a transaction; it only reads, so nothing is held that a writer waits for.
    c.setAutoCommit(false);
    try {
      return collector.collect(
          new Payload(payload),
          action -> {
            try {
              tasks.forEachOutcome(c, jobId, action);
            } catch (SQLException e) {
              throw new StoreException("reading task outcomes of job " + jobId + " failed", e);
            }
          });
    } catch (SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    } finally {
      c.rollback();
      c.setAutoCommit(true);
    }
  }
}
