package io.sluice.queue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Sluice's Redis queue protocol, the one port both sides use: the coordinator enqueues, creates
 * fan-in counters and reads collect signals; workers fetch, acknowledge with fan-in and signal
 * collection. A queue name may be a priority band's stream name ({@link
 * io.sluice.redis.PriorityBand#stream}). Every method may throw the client's runtime exception when
 * Redis fails.
 */
public interface QueueProtocol extends AutoCloseable {
  /** Creates the queue's worker consumer group (and stream) if missing. */
  void ensureWorkerGroup(String queue);

  /** Creates the collect stream's coordinator consumer group if missing. */
  void ensureCollectGroup();

  /** Appends one job's tasks to the queue, in script calls of a thousand, pipelined. */
  void enqueue(String queue, UUID jobId, int[] seqs);

  /** {@link #enqueue(String, UUID, int[])} of a list. */
  default void enqueue(String queue, UUID jobId, List<Integer> seqs) {
    enqueue(queue, jobId, seqs.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * Reads up to {@code count} new entries for {@code consumer} from the queue's priority bands,
   * highest first; blocks up to {@code block} on all bands when every band is empty. Recreates a
   * missing consumer group and reads again. A plain read: it does not check the queue's pause or
   * rate limit, which only {@link #fetchEach} does (workers fetch with that).
   */
  List<Delivery> fetch(String queue, String consumer, int count, Duration block);

  /**
   * Reads, without blocking, up to {@code counts.get(queue)} new entries of each queue for {@code
   * consumer}, each queue's bands highest first (a count of 0 reads none), and tells for each queue
   * whether unread entries are left. {@link RedisQueueProtocol} does it in one round trip. This
   * default reads the queues one by one and cannot tell, so it says entries may be left.
   */
  default Map<String, Fetched> fetchEach(Map<String, Integer> counts, String consumer) {
    return fetchEach(counts, consumer, DEFAULT_KEY_SLOT_LEASE);
  }

  /** How long a concurrency key's slot taken by a read lasts when the reader names no lease. */
  Duration DEFAULT_KEY_SLOT_LEASE = Duration.ofSeconds(30);

  /**
   * {@link #fetchEach(Map, String)}, where an entry of a concurrency key's stream is read only
   * while the key has a free slot, and takes one for {@code keySlotLease} (its worker renews it
   * while the task runs; acknowledging the entry gives it back). The keys of a band are read
   * round-robin with its unkeyed stream.
   */
  default Map<String, Fetched> fetchEach(
      Map<String, Integer> counts, String consumer, Duration keySlotLease) {
    Map<String, Fetched> result = new LinkedHashMap<>();
    counts.forEach(
        (queue, count) ->
            result.put(
                queue,
                new Fetched(count > 0 ? fetch(queue, consumer, count, null) : List.of(), true)));
    return result;
  }

  /**
   * Blocks up to {@code block} until any band of any of the queues has a new entry, then returns up
   * to {@code count} new entries, the highest bands first and then in the queues' order; empty when
   * the time passed. Entries read beyond {@code count} are handed back to the tail of their band.
   * This default blocks on the first queue only. Like {@link #fetch}, it checks no pause or rate
   * limit: the caller passes only queues that {@link #fetchEach} just found open.
   */
  default List<Delivery> awaitAny(List<String> queues, String consumer, int count, Duration block) {
    return fetch(queues.get(0), consumer, count, block);
  }

  /**
   * One pipeline for a committed batch: counts each job's finished tasks towards its fan-in (once
   * per task), then acknowledges and deletes the entries; returns each job's fan-in outcome.
   */
  Map<UUID, FanIn> acknowledge(
      Map<String, List<String>> entriesByQueue, Map<UUID, List<Integer>> finishedByJob);

  /**
   * Appends the deliveries' tasks afresh to the tail of their band and acknowledges the read
   * entries, in one pipeline: entries read that must not run now (their queue was paused between
   * the read and the claim, or they were read beyond the free slots).
   */
  void handBack(List<Delivery> deliveries);

  /** Acknowledges and deletes entries of one queue. */
  default void ackEntries(String queue, List<String> entryIds) {
    if (!entryIds.isEmpty()) {
      acknowledge(Map.of(queue, entryIds), Map.of());
    }
  }

  /**
   * One job of a batched {@link #dispatch}: its fan-in counter and its tasks on {@code queue} (a
   * concurrency key's stream when the job has one, whose limit {@code keyLimit} then is; else 0).
   */
  record JobDispatch(UUID jobId, String queue, int remaining, int[] seqs, int keyLimit) {
    public JobDispatch(UUID jobId, String queue, int remaining, int[] seqs) {
      this(jobId, queue, remaining, seqs, 0);
    }
  }

  /**
   * {@link #enqueue(String, UUID, int[])}, setting the limit of the stream's concurrency key when
   * {@code keyLimit} is above 0 (a stream without a key ignores it).
   */
  default void enqueue(String queue, UUID jobId, int[] seqs, int keyLimit) {
    enqueue(queue, jobId, seqs);
  }

  /**
   * {@link #initFanIn} then {@link #enqueue} of each job, in order: for many jobs as few round
   * trips as the protocol can make it.
   */
  default void dispatch(List<JobDispatch> jobs) {
    for (JobDispatch job : jobs) {
      initFanIn(job.jobId(), job.remaining());
      enqueue(job.queue(), job.jobId(), job.seqs(), job.keyLimit());
    }
  }

  /** Creates a job's fan-in counter with {@code remaining} tasks, unless it exists. */
  void initFanIn(UUID jobId, int remaining);

  /**
   * Rebuilds a job's fan-in from PostgreSQL's finished tasks: they are staged in a bitmap, and
   * counter and bitmap then appear together, unless a counter exists already.
   */
  void rebuildFanIn(UUID jobId, int taskCount, int[] finishedSeqs);

  /**
   * Counts requeued tasks as unfinished again; returns the remaining count, or -1 when the job has
   * no counter (the caller rebuilds it from PostgreSQL).
   */
  long reopenFanIn(UUID jobId, int... seqs);

  /** Tells the coordinators that these jobs have all their tasks finished. */
  void signalCollect(List<UUID> jobIds);

  /** {@link #signalCollect(List)} of one job. */
  default void signalCollect(UUID jobId) {
    signalCollect(List.of(jobId));
  }

  /** Collect signals for {@code consumer}, on a connection of the reader's own. */
  CollectReader collectReader(String consumer);

  /** Acknowledges and deletes collect signals. */
  void ackCollect(List<CollectSignal> signals);

  /**
   * Deletes finished jobs' keys (the fan-in counter and bitmap, and a bitmap an interrupted rebuild
   * staged); their history lives in PostgreSQL.
   */
  void deleteJobKeys(List<UUID> jobIds);

  /** {@link #deleteJobKeys(List)} of one job. */
  default void deleteJobKeys(UUID jobId) {
    deleteJobKeys(List.of(jobId));
  }

  /**
   * Takes over up to {@code count} entries of the queue that a worker read but did not acknowledge
   * for {@code minIdle} (it died, or its claim failed), so they can be appended afresh; none when
   * the queue's group does not exist.
   */
  List<Delivery> takeOverIdleEntries(String queue, Duration minIdle, int count);

  /** Whether Redis answers. */
  boolean ping();

  @Override
  void close();
}
