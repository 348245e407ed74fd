package io.sluice.coordinator;

import io.sluice.store.Database;
import io.sluice.store.PostgresJobRepair;
import io.sluice.store.PostgresJobRepair.Cursor;
import io.sluice.store.PostgresJobRepair.Found;
import io.sluice.store.PostgresJobRepair.Kind;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresNodeRegistry;
import io.sluice.store.PostgresTaskRecovery;
import io.sluice.store.PostgresTaskRecovery.Stranded;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What {@link Sweeper} reads and writes in PostgreSQL. Reads run on their own; the leader-only
 * writes come back as work for {@link LeaderElection#fenced}, so they can only run behind the
 * leader fence. Tests give the sweeper a fake.
 */
interface SweepStore {
  /** Up to {@code limit} jobs of {@code kind} older than {@code grace}, after {@code after}. */
  List<Found> stalled(Kind kind, Duration grace, Cursor after, int limit);

  /** The queue of the job, empty when it is gone. */
  Optional<String> queueOf(UUID jobId);

  /** Marks the job as just acted on, so its grace starts over. */
  void touch(UUID jobId);

  /** Tasks whose retry delay is over. */
  List<Stranded> dueRetries(int limit);

  /** Running tasks whose lease expired. */
  List<Stranded> expiredLeases(int limit);

  /** The queues that have tasks queued or running. */
  List<String> activeQueues();

  /** The concurrency keys' streams of jobs not yet finished. */
  List<String> activeKeyedStreams();

  /** Marks nodes DEAD that were silent for {@code silence}; returns their ids. */
  Database.TxWork<List<String>> markDead(Duration silence);

  /** Marks due retries QUEUED; returns how many were. */
  Database.TxWork<Integer> markRetriesQueued(List<Stranded> due);

  /** Marks tasks with expired leases QUEUED again; returns how many were. */
  Database.TxWork<Integer> reclaim(List<Stranded> expired);

  /** The tables of {@code db}. */
  static SweepStore postgres(Database db) {
    PostgresJobStore jobs = new PostgresJobStore();
    PostgresTaskRecovery recovery = new PostgresTaskRecovery();
    PostgresJobRepair repair = new PostgresJobRepair();
    PostgresNodeRegistry nodes = new PostgresNodeRegistry();
    return new SweepStore() {
      @Override
      public List<Found> stalled(Kind kind, Duration grace, Cursor after, int limit) {
        return db.query(c -> repair.page(c, kind, grace, after, limit));
      }

      @Override
      public Optional<String> queueOf(UUID jobId) {
        return db.query(c -> jobs.find(c, jobId)).map(job -> job.queue());
      }

      @Override
      public void touch(UUID jobId) {
        db.inTransaction(
            c -> {
              jobs.touch(c, jobId);
              return null;
            });
      }

      @Override
      public List<Stranded> dueRetries(int limit) {
        return db.query(c -> recovery.dueRetries(c, limit));
      }

      @Override
      public List<Stranded> expiredLeases(int limit) {
        return db.query(c -> recovery.expiredLeases(c, limit));
      }

      @Override
      public List<String> activeQueues() {
        return db.query(recovery::activeQueues);
      }

      @Override
      public List<String> activeKeyedStreams() {
        return db.query(recovery::activeKeyedStreams);
      }

      @Override
      public Database.TxWork<List<String>> markDead(Duration silence) {
        return c -> nodes.markDead(c, silence);
      }

      @Override
      public Database.TxWork<Integer> markRetriesQueued(List<Stranded> due) {
        return c -> recovery.markRetriesQueued(c, due);
      }

      @Override
      public Database.TxWork<Integer> reclaim(List<Stranded> expired) {
        return c -> recovery.reclaim(c, expired);
      }
    };
  }
}
