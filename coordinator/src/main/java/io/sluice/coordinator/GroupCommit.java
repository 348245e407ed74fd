package io.sluice.coordinator;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresJobSubmission;
import io.sluice.store.PostgresJobSubmission.Stored;
import io.sluice.store.PreparedJob;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit of small submissions: the jobs that arrive while a transaction commits are stored
 * together in the next one ({@link PostgresJobSubmission#storeGroup}: a fixed number of statements
 * and one commit for the whole group), and each request is answered only after the commit that
 * stored its job. Nothing waits to fill a group: a committer takes whatever is queued, so a lone
 * job is committed at once and under load groups grow by themselves.
 *
 * <p>The queue is bounded: when it is full a submitter waits for room, so load slows the producers
 * instead of growing memory. A group whose transaction fails is stored again job by job, so one
 * job's failure is its own request's error and never its neighbours'.
 */
final class GroupCommit implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

  /** Jobs in one transaction at most. */
  static final int MAX_GROUP = 500;

  private record Pending(PreparedJob job, CompletableFuture<Stored> answer) {}

  private final Database db;
  private final PostgresJobSubmission submission = new PostgresJobSubmission();
  private final BlockingQueue<Pending> queue;
  private final List<Thread> committers = new ArrayList<>();
  private final DistributionSummary groupSize;
  private volatile boolean running = true;

  /**
   * @param committers transactions committing at once: while one commits, the next group forms
   * @param capacity submissions that may wait for a group
   */
  GroupCommit(Database db, int committers, int capacity, MeterRegistry metrics) {
    this.db = db;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.groupSize =
        DistributionSummary.builder("sluice_submit_group_size")
            .description("Jobs stored by one group-commit transaction")
            .register(metrics);
    for (int i = 0; i < committers; i++) {
      Thread t = Threads.named("group-commit").newThread(this::loop);
      this.committers.add(t);
      t.start();
    }
  }

  /** Stores the job in the next group and returns once that group committed (or failed). */
  Stored store(PreparedJob job) {
    Pending pending = new Pending(job, new CompletableFuture<>());
    try {
      queue.put(pending);
      return pending.answer().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the group commit", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new CompletionException(e.getCause());
    }
  }

  private void loop() {
    List<Pending> group = new ArrayList<>(MAX_GROUP);
    while (running) {
      try {
        group.add(queue.take());
      } catch (InterruptedException e) {
        return;
      }
      queue.drainTo(group, MAX_GROUP - 1);
      groupSize.record(group.size());
      try {
        commit(group);
      } catch (RuntimeException e) {
        group.forEach(p -> p.answer().completeExceptionally(e));
      }
      group.clear();
    }
  }

  private void commit(List<Pending> group) {
    List<Stored> stored;
    try {
      List<PreparedJob> jobs = group.stream().map(Pending::job).toList();
      stored = db.inTransaction(c -> submission.storeGroup(c, jobs, false));
    } catch (RuntimeException e) {
      if (group.size() == 1) {
        throw e;
      }
      log.warn(
          "Storing a group of {} submissions failed; storing them one by one: {}",
          group.size(),
          e.toString());
      group.forEach(this::alone);
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      if (stored.get(i) == null) {
        alone(group.get(i)); // its tenant's quota could not take the whole group's jobs
      } else {
        group.get(i).answer().complete(stored.get(i));
      }
    }
  }

  private void alone(Pending p) {
    try {
      Stored one = db.inTransaction(c -> submission.storeGroup(c, List.of(p.job()), false)).get(0);
      p.answer().complete(one);
    } catch (RuntimeException e) {
      p.answer().completeExceptionally(e);
    }
  }

  @Override
  public void close() {
    running = false;
    committers.forEach(Thread::interrupt);
    Pending left;
    while ((left = queue.poll()) != null) {
      left.answer().completeExceptionally(new IllegalStateException("the coordinator is stopping"));
    }
  }
}
