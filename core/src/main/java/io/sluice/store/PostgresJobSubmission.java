package io.sluice.store;

import io.sluice.SluiceException;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import java.sql.Connection;
import java.sql.SQLException;
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
            jobs.setTaskCount(c, job.id(), split(c, job.id(), splitter, payload));
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

  private int split(Connection c, UUID jobId, Splitter splitter, Payload payload)
      throws SQLException {
    try {
      return tasks.insertTasks(c, jobId, splitter, payload);
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
