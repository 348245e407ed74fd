package io.sluice.queue;

import io.sluice.redis.PriorityBand;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The queue protocol in memory, for unit tests; shared with other modules' tests (test-jar). It
 * keeps the semantics the callers rely on: acknowledged entries are gone, a fan-in counts each task
 * once and reports {@code crossed} on the one call that reaches zero, a missing counter reads as
 * negative, idle entries are measured on the given clock. It also records what was asked of it, so
 * a test can check how often a batch went to Redis. Not thread-safe beyond its synchronized
 * methods.
 */
public class InMemoryQueueProtocol implements QueueProtocol {
  private final Clock clock;
  private final Map<String, List<Entry>> streams = new HashMap<>();
  private final Map<UUID, FanInState> fanIns = new HashMap<>();
  private final List<CollectSignal> collectStream = new ArrayList<>();
  private final List<UUID> signalled = new ArrayList<>();
  private final List<UUID> deleted = new ArrayList<>();
  private final Set<String> groups = new TreeSet<>();
  private long nextId = 1;
  private int acknowledgeCalls;
  private RuntimeException failure;

  /** An entry of a stream: what it carries and, once read, when. */
  private static final class Entry {
    final Delivery delivery;
    Instant readAt;

    Entry(Delivery delivery) {
      this.delivery = delivery;
    }
  }

  private static final class FanInState {
    final BitSet counted = new BitSet();
    long remaining;

    FanInState(long remaining) {
      this.remaining = remaining;
    }
  }

  /** On the system clock. */
  public InMemoryQueueProtocol() {
    this(Clock.systemUTC());
  }

  /** Measuring idle entries on {@code clock}. */
  public InMemoryQueueProtocol(Clock clock) {
    this.clock = clock;
  }

  /** Every later call throws {@code e} (as a client does while Redis is down); null heals it. */
  public synchronized void failWith(RuntimeException e) {
    this.failure = e;
  }

  private void check() {
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public synchronized void ensureWorkerGroup(String queue) {
    check();
    groups.add(queue);
  }

  @Override
  public synchronized void ensureCollectGroup() {
    check();
  }

  @Override
  public synchronized void enqueue(String queue, UUID jobId, int[] seqs) {
    check();
    List<Entry> stream = streams.computeIfAbsent(queue, q -> new ArrayList<>());
    for (int seq : seqs) {
      stream.add(new Entry(new Delivery(queue, (nextId++) + "-0", jobId, seq)));
    }
  }

  @Override
  public synchronized List<Delivery> fetch(
      String queue, String consumer, int count, Duration block) {
    check();
    List<Delivery> read = new ArrayList<>();
    for (String band : PriorityBand.streams(queue)) {
      for (Entry e : streams.getOrDefault(band, List.of())) {
        if (read.size() < count && e.readAt == null) {
          e.readAt = clock.instant();
          read.add(e.delivery);
        }
      }
    }
    return read;
  }

  @Override
  public synchronized void handBack(List<Delivery> deliveries) {
    check();
    for (Delivery d : deliveries) {
      streams.getOrDefault(d.queue(), new ArrayList<>()).removeIf(e -> e.delivery == d);
      enqueue(d.queue(), d.jobId(), new int[] {d.seq()});
    }
  }

  @Override
  public synchronized Map<UUID, FanIn> acknowledge(
      Map<String, List<String>> entriesByQueue, Map<UUID, List<Integer>> finishedByJob) {
    check();
    acknowledgeCalls++;
    Map<UUID, FanIn> out = new LinkedHashMap<>();
    finishedByJob.forEach(
        (jobId, seqs) -> {
          FanInState state = fanIns.get(jobId);
          if (state == null) {
            out.put(jobId, new FanIn(-1, false));
            return;
          }
          long before = state.remaining;
          for (int seq : seqs) {
            if (!state.counted.get(seq)) {
              state.counted.set(seq);
              state.remaining--;
            }
          }
          out.put(jobId, new FanIn(state.remaining, before > 0 && state.remaining == 0));
        });
    entriesByQueue.forEach(
        (queue, ids) -> {
          List<Entry> stream = streams.get(queue);
          if (stream != null) {
            stream.removeIf(e -> ids.contains(e.delivery.entryId()));
          }
        });
    return out;
  }

  @Override
  public synchronized void initFanIn(UUID jobId, int remaining) {
    check();
    fanIns.putIfAbsent(jobId, new FanInState(remaining));
  }

  @Override
  public synchronized void rebuildFanIn(UUID jobId, int taskCount, int[] finishedSeqs) {
    check();
    if (fanIns.containsKey(jobId)) {
      return;
    }
    FanInState state = new FanInState(taskCount);
    for (int seq : finishedSeqs) {
      if (!state.counted.get(seq)) {
        state.counted.set(seq);
        state.remaining--;
      }
    }
    fanIns.put(jobId, state);
  }

  @Override
  public synchronized long reopenFanIn(UUID jobId, int... seqs) {
    check();
    FanInState state = fanIns.get(jobId);
    if (state == null) {
      return -1;
    }
    for (int seq : seqs) {
      if (state.counted.get(seq)) {
        state.counted.clear(seq);
        state.remaining++;
      }
    }
    return state.remaining;
  }

  @Override
  public synchronized void signalCollect(List<UUID> jobIds) {
    check();
    for (UUID jobId : jobIds) {
      signalled.add(jobId);
      collectStream.add(new CollectSignal((nextId++) + "-0", jobId));
    }
  }

  @Override
  public CollectReader collectReader(String consumer) {
    return new CollectReader() {
      private int next;

      @Override
      public List<CollectSignal> read(int count, Duration block) {
        synchronized (InMemoryQueueProtocol.this) {
          check();
          int end = Math.min(collectStream.size(), next + count);
          List<CollectSignal> out = List.copyOf(collectStream.subList(next, end));
          next = end;
          return out;
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public synchronized void ackCollect(List<CollectSignal> signals) {
    check();
    // Acknowledged signals stay in the log that signalled() reads; the stream keeps reader offsets.
  }

  @Override
  public synchronized void deleteJobKeys(List<UUID> jobIds) {
    check();
    deleted.addAll(jobIds);
    jobIds.forEach(fanIns::remove);
  }

  @Override
  public synchronized List<Delivery> takeOverIdleEntries(
      String queue, Duration minIdle, int count) {
    check();
    Instant cutoff = clock.instant().minus(minIdle);
    List<Delivery> out = new ArrayList<>();
    for (Entry e : streams.getOrDefault(queue, List.of())) {
      if (out.size() < count && e.readAt != null && !e.readAt.isAfter(cutoff)) {
        e.readAt = clock.instant();
        out.add(e.delivery);
      }
    }
    return out;
  }

  @Override
  public synchronized boolean ping() {
    return failure == null;
  }

  @Override
  public void close() {}

  // What tests look at.

  /** Entries of {@code queue} not yet acknowledged, oldest first. */
  public synchronized List<Delivery> entries(String queue) {
    return streams.getOrDefault(queue, List.of()).stream().map(e -> e.delivery).toList();
  }

  /** Entries of {@code queue} read but not acknowledged. */
  public synchronized List<Delivery> pending(String queue) {
    return streams.getOrDefault(queue, List.of()).stream()
        .filter(e -> e.readAt != null)
        .map(e -> e.delivery)
        .toList();
  }

  /** How many times {@link #acknowledge} was called (one pipeline each). */
  public synchronized int acknowledgeCalls() {
    return acknowledgeCalls;
  }

  /** Every job a collect signal was sent for, in order, repeats included. */
  public synchronized List<UUID> signalled() {
    return List.copyOf(signalled);
  }

  /** Every job whose keys were deleted, in order. */
  public synchronized List<UUID> deletedJobs() {
    return List.copyOf(deleted);
  }

  /** The job's fan-in count still to go, or -1 without a counter. */
  public synchronized long remaining(UUID jobId) {
    FanInState state = fanIns.get(jobId);
    return state == null ? -1 : state.remaining;
  }

  /** Queues whose worker group was created. */
  public synchronized Set<String> groups() {
    return Set.copyOf(groups);
  }
}
