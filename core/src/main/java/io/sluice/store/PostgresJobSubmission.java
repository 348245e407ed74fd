package io.sluice.store;

import io.sluice.SluiceException;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Stores a submission in one transaction: the job row, every task its splitter makes, its birth
 * event and a place in its tenant's quota, so a job never exists half-split or past the quota. The
 * idempotency key is unique in the database, so of concurrent duplicates only one inserts.
 */
public final class PostgresJobSubmission {
  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private final PostgresTenantQuota quotas = new PostgresTenantQuota();

  /** What storing a submission did. */
  public sealed interface Stored permits Created, KeyTaken, OverQuota {}

  /** The job and its tasks are stored, QUEUED. */
  public record Created(Job job) implements Stored {}

  /** Another job holds the idempotency key; nothing was stored. */
  public record KeyTaken() implements Stored {}

  /** The tenant has {@code quota} active jobs already; nothing was stored. */
  public record OverQuota(int quota) implements Stored {}

  /** The splitter threw a checked exception (its cause); nothing was stored. */
  public static final class SplitFailedException extends SluiceException {
    SplitFailedException(Exception cause) {
      super("splitting the payload failed: " + cause.getMessage(), cause);
    }
  }

  /**
   * Stores the job with its tasks unless its tenant has {@code quota} active jobs (null: no quota).
   * An {@link InvalidPayloadException} or any unchecked exception of the splitter is thrown on, a
   * checked one as {@link SplitFailedException}; nothing is stored then.
   */
  public Stored store(Database db, NewJob job, Splitter splitter, Payload payload, Integer quota) {
    try {
      return db.inTransaction(
          c -> {
            if (!jobs.insert(c, job)) {
              return new KeyTaken();
            }
            db.allowBulk(c); // a million-row COPY outlasts the statement timeout
            jobs.setTaskCount(
                c, job.id(), split(c, job.id(), Stage.main(job.id()), splitter, payload));
            transitions.submitted(c, job.id());
            Job stored = jobs.find(c, job.id()).orElseThrow();
            // Last, so the tenant's usage row is locked only until the commit.
            if (!quotas.tryTake(c, job.tenant(), quota)) {
              throw new QuotaTaken(); // rolls the job back
            }
            return new Created(stored);
          });
    } catch (QuotaTaken e) {
      return new OverQuota(quota);
    }
  }

  /**
   * Stores a pipeline: its row, a WAITING row for each stage, and the tasks of every stage that
   * depends on none, which become QUEUED; all in one transaction, with the quota taken as for a
   * one-stage job. A stage whose type has no splitter here is a bug of the caller (it validated the
   * types): {@link IllegalStateException}.
   */
  public Stored storePipeline(
      Database db, NewJob job, PostgresPipelines.Splitters splitters, Integer quota) {
    try {
      return db.inTransaction(
          c -> {
            if (!jobs.insert(c, job)) {
              return new KeyTaken();
            }
            db.allowBulk(c);
            transitions.submitted(c, job.id());
            List<UUID> ids = new ArrayList<>();
            for (int i = 0; i < job.stages().size(); i++) {
              UUID id = UUID.randomUUID();
              jobs.insertStage(c, job.id(), i, id, job.stages().get(i));
              transitions.born(c, id, JobStatus.WAITING);
              ids.add(id);
            }
            for (int i = 0; i < job.stages().size(); i++) {
              NewStage stage = job.stages().get(i);
              if (stage.dependsOn().isEmpty()) {
                Splitter splitter =
                    splitters
                        .of(stage.type())
                        .orElseThrow(() -> new IllegalStateException("no type " + stage.type()));
                Stage context = new Stage(job.id(), stage.name(), Map.of());
                int count = split(c, ids.get(i), context, splitter, new Payload(stage.payload()));
                transitions.split(c, ids.get(i), job.id(), count);
              }
            }
            Job stored = jobs.find(c, job.id()).orElseThrow();
            if (!quotas.tryTake(c, job.tenant(), quota)) {
              throw new QuotaTaken();
            }
            return new Created(stored);
          });
    } catch (QuotaTaken e) {
      return new OverQuota(quota);
    }
  }

  private int split(Connection c, UUID jobId, Stage stage, Splitter splitter, Payload payload)
      throws SQLException {
    try {
      return tasks.insertTasks(c, jobId, stage, splitter, payload);
    } catch (SQLException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new SplitFailedException(e);
    }
  }

  private static final class QuotaTaken extends RuntimeException {
    QuotaTaken() {
      super(null, null, false, false);
    }
  }
}
