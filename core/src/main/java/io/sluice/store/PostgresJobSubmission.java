package io.sluice.store;

import io.sluice.SluiceException;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.Stage;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
  private final PostgresWebhooks webhooks = new PostgresWebhooks();

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
            registerCallbacks(c, List.of(job));
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
            db.allowBulk(c);
            return storePipeline(c, job, splitters, quota);
          });
    } catch (QuotaTaken e) {
      return new OverQuota(quota);
    }
  }

  /**
   * {@link #storePipeline(Database, NewJob, PostgresPipelines.Splitters, Integer)} in the caller's
   * transaction; over the quota it throws {@link QuotaTaken}, which must roll that back.
   */
  private Stored storePipeline(
      Connection c, NewJob job, PostgresPipelines.Splitters splitters, Integer quota)
      throws SQLException {
    if (!jobs.insert(c, job)) {
      return new KeyTaken();
    }
    registerCallbacks(c, List.of(job));
    transitions.submitted(c, job.id());
    List<UUID> ids = new ArrayList<>();
    List<UUID> withCallback = new ArrayList<>();
    List<NewJob.Callback> stageCallbacks = new ArrayList<>();
    for (int i = 0; i < job.stages().size(); i++) {
      UUID id = JobIds.next();
      NewStage stage = job.stages().get(i);
      jobs.insertStage(c, job.id(), i, id, stage);
      transitions.born(c, id, JobStatus.WAITING);
      ids.add(id);
      if (stage.callback() != null) {
        withCallback.add(id);
        stageCallbacks.add(stage.callback());
      }
    }
    // A stage's own callback: its row's terminal state is posted like a job's (V19 names it).
    webhooks.insertCallbacks(c, withCallback, stageCallbacks);
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
  }

  /**
   * Stores many one-stage jobs split beforehand in the caller's transaction, in a fixed number of
   * statements however many there are: one multi-row insert, one COPY of all their tasks, one
   * insert of their birth events, one quota statement per tenant and one read of the rows stored.
   * Returns what happened to each, in order:
   *
   * <ul>
   *   <li>{@link Created}, or {@link KeyTaken} when another job holds its idempotency key (also one
   *       stored earlier in the same group);
   *   <li>when a tenant's quota cannot take all of its jobs in the group: with {@code
   *       allOrNothing}, {@link QuotaExceededException} is thrown (the caller rolls back);
   *       otherwise that tenant's jobs are removed again and their entries (and those of its jobs
   *       whose key was taken) are null, to be stored one by one, or {@link OverQuota} when the
   *       tenant had a single job in the group.
   * </ul>
   *
   * Rows are inserted ordered by tenant and idempotency key, so two groups sharing keys take their
   * locks in the same order and cannot deadlock.
   */
  public List<Stored> storeGroup(Connection c, List<PreparedJob> group, boolean allOrNothing)
      throws SQLException {
    List<PreparedJob> ordered = new ArrayList<>(group);
    ordered.sort(
        Comparator.comparing((PreparedJob p) -> p.job().tenant())
            .thenComparing(
                p -> p.job().idempotencyKey(), Comparator.nullsLast(Comparator.naturalOrder())));
    Set<UUID> inserted = jobs.insertMany(c, ordered);
    List<PreparedJob> stored =
        ordered.stream().filter(p -> inserted.contains(p.job().id())).toList();
    Set<UUID> retry = new HashSet<>();
    if (!stored.isEmpty()) {
      registerCallbacks(c, stored.stream().map(PreparedJob::job).toList());
      TaskCopy.copyAll(c, stored);
      transitions.bornAll(c, inserted, JobStatus.QUEUED);
      Map<String, List<PreparedJob>> byTenant = new TreeMap<>();
      stored.forEach(
          p -> byTenant.computeIfAbsent(p.job().tenant(), t -> new ArrayList<>()).add(p));
      List<UUID> removed = new ArrayList<>();
      for (var tenant : byTenant.entrySet()) {
        List<PreparedJob> its = tenant.getValue();
        Integer quota = its.get(0).quota();
        if (!quotas.tryTake(c, tenant.getKey(), its.size(), quota)) {
          if (allOrNothing) {
            throw new QuotaExceededException(tenant.getKey(), quota);
          }
          its.forEach(p -> removed.add(p.job().id()));
        }
      }
      if (!removed.isEmpty()) {
        jobs.delete(c, removed);
        retry.addAll(removed);
      }
    }
    Map<UUID, Job> rows = new HashMap<>();
    List<UUID> kept = inserted.stream().filter(id -> !retry.contains(id)).toList();
    if (!kept.isEmpty()) {
      jobs.findAll(c, kept).forEach(j -> rows.put(j.id(), j));
    }
    Map<String, Long> retriedOf = new HashMap<>();
    for (PreparedJob p : group) {
      if (retry.contains(p.job().id())) {
        retriedOf.merge(p.job().tenant(), 1L, Long::sum);
      }
    }
    List<Stored> result = new ArrayList<>(group.size());
    for (PreparedJob p : group) {
      UUID id = p.job().id();
      if (retry.contains(id)) {
        result.add(retriedOf.get(p.job().tenant()) == 1 ? new OverQuota(p.quota()) : null);
      } else if (inserted.contains(id)) {
        result.add(new Created(rows.get(id)));
      } else if (retriedOf.containsKey(p.job().tenant())) {
        result.add(null); // the job holding its key may be one just removed: try again alone
      } else {
        result.add(new KeyTaken());
      }
    }
    return result;
  }

  /** The callbacks of jobs just inserted, if any has one: one statement. */
  private void registerCallbacks(Connection c, List<NewJob> inserted) throws SQLException {
    List<NewJob> with = inserted.stream().filter(j -> j.callback() != null).toList();
    webhooks.insertCallbacks(
        c, with.stream().map(NewJob::id).toList(), with.stream().map(NewJob::callback).toList());
  }

  /**
   * Stores a pipeline in the caller's transaction, as part of a batch; over its tenant's quota it
   * throws {@link QuotaExceededException}.
   */
  public Stored storePipelineInBatch(
      Connection c, NewJob job, PostgresPipelines.Splitters splitters, Integer quota)
      throws SQLException {
    try {
      return storePipeline(c, job, splitters, quota);
    } catch (QuotaTaken e) {
      throw new QuotaExceededException(job.tenant(), quota);
    }
  }

  /** A batch's jobs of {@code tenant} do not fit in its quota; nothing may be stored. */
  public static final class QuotaExceededException extends SluiceException {
    private final Integer quota;

    QuotaExceededException(String tenant, Integer quota) {
      super("tenant " + tenant + " has no room for the batch's jobs in its quota of " + quota);
      this.quota = quota;
    }

    public Integer quota() {
      return quota;
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
