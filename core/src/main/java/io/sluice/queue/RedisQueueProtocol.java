package io.sluice.queue;

import io.sluice.SluiceException;
import io.sluice.config.QueueRates;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.QueueShards;
import io.sluice.redis.RedisKeys;
import io.sluice.redis.RedisReplyError;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The queue protocol written once over {@link QueueCommands}: an adapter supplies the commands of
 * its client, this class decides keys, script arguments, pipelining and what each error reply
 * means. Each method is as many round trips as before the port: one pipeline per batch.
 */
public class RedisQueueProtocol implements QueueProtocol {
  /** Collect signals kept at most (approximately); acknowledged ones are deleted anyway. */
  public static final long COLLECT_STREAM_MAX_LENGTH = 100_000;

  /** The consumer a coordinator takes idle entries over as. */
  static final String REAPER = "sluice-reaper";

  private static final String JOB = "j";
  private static final String SEQ = "s";

  private final RedisKeys keys;
  private final QueueCommands commands;
  private final QueueScripts scripts;
  private final ScriptRunner runner;
  private final QueueShards shards;
  // Where the next read of a sharded queue starts, so its shards share the reads evenly.
  private final AtomicInteger turn = new AtomicInteger();

  /** The protocol with {@code keys}' prefix over an adapter's {@code commands}. */
  public RedisQueueProtocol(RedisKeys keys, QueueCommands commands) {
    this(keys, commands, QueueShards.NONE);
  }

  /**
   * The protocol with queues spread over {@code shards}: callers name streams without a shard (as
   * {@link PriorityBand#stream} does) and this class puts each task on its shard and reads every
   * shard; a {@link Delivery} names the shard's stream it came from.
   */
  public RedisQueueProtocol(RedisKeys keys, QueueCommands commands, QueueShards shards) {
    this.shards = shards;
    this.keys = keys;
    this.commands = commands;
    this.scripts = new QueueScripts(keys);
    this.runner = new ScriptRunner(commands);
  }

  /** The key layout this protocol uses. */
  public RedisKeys keys() {
    return keys;
  }

  /** The queues' shards. */
  public QueueShards shards() {
    return shards;
  }

  @Override
  public void ensureWorkerGroup(String queue) {
    for (String stream : shardStreams(queue)) {
      createGroup(keys.readyStream(stream), RedisKeys.WORKER_GROUP);
    }
  }

  @Override
  public void ensureCollectGroup() {
    createGroup(keys.collectStream(), RedisKeys.COORDINATOR_GROUP);
  }

  @Override
  public void enqueue(String queue, UUID jobId, int[] seqs) {
    enqueue(queue, jobId, seqs, 0);
  }

  @Override
  public void enqueue(String queue, UUID jobId, int[] seqs, int keyLimit) {
    runner.run(enqueueCalls(queue, jobId, seqs, keyLimit));
  }

  /**
   * The script calls that append a job's tasks: on the named stream when it names its shard, else
   * on each task's shard (by sequence number; a concurrency key's tasks all on the key's shard).
   */
  private List<ScriptCall> enqueueCalls(String queue, UUID jobId, int[] seqs, int keyLimit) {
    int n = shards.of(PriorityBand.queueOf(queue));
    if (n == 1 || QueueShards.hasShard(queue)) {
      return scripts.enqueue(queue, jobId, seqs, keyLimit);
    }
    String key = PriorityBand.keyOf(queue);
    if (key != null) {
      return scripts.enqueue(
          QueueShards.withShard(queue, QueueShards.shardOfKey(key, n)), jobId, seqs, keyLimit);
    }
    List<List<Integer>> byShard = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byShard.add(new ArrayList<>());
    }
    for (int seq : seqs) {
      byShard.get(Math.floorMod(seq, n)).add(seq);
    }
    List<ScriptCall> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!byShard.get(i).isEmpty()) {
        calls.addAll(
            scripts.enqueue(
                QueueShards.withShard(queue, i),
                jobId,
                byShard.get(i).stream().mapToInt(Integer::intValue).toArray(),
                keyLimit));
      }
    }
    return calls;
  }

  /**
   * The streams a stream name stands for: itself when it names its shard, its key's shard's for a
   * concurrency key, else one per shard of its queue.
   */
  private List<String> shardStreams(String stream) {
    int n = shards.of(PriorityBand.queueOf(stream));
    if (n == 1 || QueueShards.hasShard(stream)) {
      return List.of(stream);
    }
    String key = PriorityBand.keyOf(stream);
    if (key != null) {
      return List.of(QueueShards.withShard(stream, QueueShards.shardOfKey(key, n)));
    }
    return shards.streamsOf(stream);
  }

  /** Every job's counter and tasks in one pipeline of script calls. */
  @Override
  public void dispatch(List<JobDispatch> jobs) {
    List<ScriptCall> calls = new ArrayList<>();
    for (JobDispatch job : jobs) {
      calls.add(scripts.fanInInit(job.jobId(), job.remaining()));
      calls.addAll(enqueueCalls(job.queue(), job.jobId(), job.seqs(), job.keyLimit()));
    }
    runner.run(calls);
  }

  @Override
  public List<Delivery> fetch(String queue, String consumer, int count, Duration block) {
    if (shards.of(queue) > 1 && !QueueShards.hasShard(queue)) {
      // A plain read of each shard in turn, without blocking: workers fetch with fetchEach.
      List<Delivery> all = new ArrayList<>();
      for (String shard : shards.streamsOf(queue)) {
        all.addAll(fetch(shard, consumer, count - all.size(), null));
        if (all.size() >= count) {
          break;
        }
      }
      return all;
    }
    List<String> bands = PriorityBand.streams(queue);
    List<Delivery> deliveries = new ArrayList<>();
    for (String band : bands) {
      deliveries.addAll(read(List.of(band), consumer, count - deliveries.size(), null));
      if (deliveries.size() >= count) {
        return deliveries;
      }
    }
    if (!deliveries.isEmpty()) {
      return deliveries;
    }
    return keepHighest(read(bands, consumer, count, block), count);
  }

  /**
   * One {@code fetch.lua} call per queue, all in one pipeline. A sharded queue is read one shard
   * per call, the next shard at the next call: as many script calls per task as a queue of one
   * shard (a read of every shard would split the count into smaller reads and multiply the calls),
   * and the shards are read in turn. A read that finds its shard short does not say the queue is
   * empty: the worker reads again, or blocks on every shard at once ({@link #awaitAny}), which
   * wakes at once when any of them has entries.
   */
  @Override
  public Map<String, Fetched> fetchEach(
      Map<String, Integer> counts, String consumer, Duration keySlotLease) {
    List<String> queues = List.copyOf(counts.keySet());
    List<ScriptCall> calls = new ArrayList<>(queues.size());
    List<String> read = new ArrayList<>(queues.size());
    for (String q : queues) {
      int n = QueueShards.hasShard(q) ? 1 : shards.of(q);
      String shard =
          n == 1 ? q : QueueShards.shardQueue(q, Math.floorMod(turn.getAndIncrement(), n));
      read.add(shard);
      calls.add(
          scripts.fetch(shard, RedisKeys.WORKER_GROUP, consumer, counts.get(q), keySlotLease));
    }
    List<Object> replies = runner.run(calls);
    Map<String, Fetched> result = new LinkedHashMap<>();
    for (int i = 0; i < queues.size(); i++) {
      result.put(queues.get(i), fetched(read.get(i), (List<?>) replies.get(i)));
    }
    return result;
  }

  /**
   * One XREADGROUP … BLOCK over every band of every queue, reading at most one entry of each band
   * so that entries beyond {@code count} are rare (several bands woken at once). Its keys span the
   * queues' hash tags, so on a Redis Cluster it is one read per queue instead, each blocking for
   * its share of {@code block}, the first queue first (the caller rotates which one that is).
   */
  @Override
  public List<Delivery> awaitAny(List<String> queues, String consumer, int count, Duration block) {
    List<String> sharded = new ArrayList<>(queues.size());
    for (String queue : queues) {
      int n = QueueShards.hasShard(queue) ? 1 : shards.of(queue);
      for (int i = 0; i < n; i++) {
        sharded.add(QueueShards.shardQueue(queue, i));
      }
    }
    if (sharded.size() > queues.size()) {
      return awaitAny(sharded, consumer, count, block);
    }
    if (commands.singleSlotReads() && queues.size() > 1) {
      Duration share = block == null ? null : block.dividedBy(queues.size());
      for (String queue : queues) {
        List<Delivery> woken = awaitAny(List.of(queue), consumer, count, share);
        if (!woken.isEmpty()) {
          return woken;
        }
      }
      return List.of();
    }
    List<String> bands = new ArrayList<>();
    int bandCount = PriorityBand.streams(queues.get(0)).size();
    for (int b = 0; b < bandCount; b++) {
      for (String queue : queues) {
        bands.add(PriorityBand.streams(queue).get(b));
      }
    }
    List<Delivery> read = new ArrayList<>(read(bands, consumer, 1, block));
    read.sort(Comparator.comparingInt(d -> bands.indexOf(d.queue())));
    return keepHighest(read, count);
  }

  @Override
  public Map<UUID, FanIn> acknowledge(
      Map<String, List<String>> entriesByQueue, Map<UUID, List<Integer>> finishedByJob) {
    List<ScriptCall> calls = new ArrayList<>(finishedByJob.size() + entriesByQueue.size());
    // Fan-in first: a worker that dies part-way leaves its entries unacknowledged, and their
    // redelivery counts again what this did not (the bitmap counts each task once).
    finishedByJob.forEach((jobId, seqs) -> calls.add(scripts.fanIn(jobId, seqs)));
    entriesByQueue.forEach(
        (queue, ids) -> calls.add(scripts.ackReady(queue, RedisKeys.WORKER_GROUP, ids)));
    List<Object> replies = runner.run(calls);
    Map<UUID, FanIn> result = new LinkedHashMap<>();
    int i = 0;
    for (UUID jobId : finishedByJob.keySet()) {
      result.put(jobId, QueueScripts.fanInReply(replies.get(i++)));
    }
    return result;
  }

  @Override
  public void initFanIn(UUID jobId, int remaining) {
    runner.run(scripts.fanInInit(jobId, remaining));
  }

  @Override
  public void rebuildFanIn(UUID jobId, int taskCount, int[] finishedSeqs) {
    commands.unlink(List.of(List.of(keys.countedStaging(jobId))));
    runner.run(scripts.stageFinished(jobId, finishedSeqs));
    initFanIn(jobId, taskCount - finishedSeqs.length);
  }

  @Override
  public long reopenFanIn(UUID jobId, int... seqs) {
    return QueueScripts.number(runner.run(scripts.fanInReopen(jobId, seqs)));
  }

  @Override
  public void signalCollect(List<UUID> jobIds) {
    if (!jobIds.isEmpty()) {
      commands.xadd(
          keys.collectStream(),
          COLLECT_STREAM_MAX_LENGTH,
          jobIds.stream().map(id -> Map.of(JOB, id.toString())).toList());
    }
  }

  @Override
  public CollectReader collectReader(String consumer) {
    // Named, so an operator (or a test) can find it in CLIENT LIST.
    StreamReader reader = commands.openReader("sluice-collect-listener-" + consumer);
    List<String> stream = List.of(keys.collectStream());
    return new CollectReader() {
      @Override
      public List<CollectSignal> read(int count, Duration block) {
        return reader
            .readGroup(RedisKeys.COORDINATOR_GROUP, consumer, stream, count, block)
            .stream()
            .map(e -> new CollectSignal(e.id(), UUID.fromString(e.fields().get(JOB))))
            .toList();
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  @Override
  public void ackCollect(List<CollectSignal> signals) {
    if (!signals.isEmpty()) {
      runner.run(
          scripts.ack(
              keys.collectStream(),
              RedisKeys.COORDINATOR_GROUP,
              signals.stream().map(CollectSignal::entryId).toList()));
    }
  }

  @Override
  public void deleteJobKeys(List<UUID> jobIds) {
    if (!jobIds.isEmpty()) {
      commands.unlink(
          jobIds.stream()
              .map(id -> List.of(keys.remaining(id), keys.counted(id), keys.countedStaging(id)))
              .toList());
    }
  }

  /** Every shard's idle entries of the stream name (see {@link #shardStreams}). */
  @Override
  public List<Delivery> takeOverIdleEntries(String queue, Duration minIdle, int count) {
    List<String> streams = shardStreams(queue);
    if (streams.size() == 1) {
      return takeOverIdle(streams.get(0), minIdle, count);
    }
    List<Delivery> taken = new ArrayList<>();
    for (String stream : streams) {
      taken.addAll(takeOverIdle(stream, minIdle, count));
    }
    return taken;
  }

  private List<Delivery> takeOverIdle(String queue, Duration minIdle, int count) {
    List<StreamEntry> claimed;
    try {
      claimed =
          commands.autoClaim(
              keys.readyStream(queue), RedisKeys.WORKER_GROUP, REAPER, minIdle, count);
    } catch (RuntimeException e) {
      if (RedisReplyError.NOGROUP.matches(e)) {
        return List.of(); // Nothing was ever dispatched to this stream (a band not used yet).
      }
      throw e;
    }
    return claimed.stream()
        .filter(e -> e.fields() != null && e.fields().containsKey(JOB))
        .map(e -> delivery(queue, e))
        .toList();
  }

  @Override
  public boolean ping() {
    try {
      return commands.ping();
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void close() {
    commands.close();
  }

  /** One XREADGROUP of the given band streams; recreates missing groups (Redis lost them). */
  private List<Delivery> read(List<String> bands, String consumer, int count, Duration block) {
    Map<String, String> bandOfKey = new LinkedHashMap<>();
    bands.forEach(band -> bandOfKey.put(keys.readyStream(band), band));
    List<String> streams = List.copyOf(bandOfKey.keySet());
    List<StreamEntry> read;
    try {
      read = commands.readGroup(RedisKeys.WORKER_GROUP, consumer, streams, count, block);
    } catch (RuntimeException e) {
      if (!RedisReplyError.NOGROUP.matches(e)) {
        throw e;
      }
      // A band never used yet, or Redis lost the group (restart or flush): create it, read again.
      streams.forEach(stream -> createGroup(stream, RedisKeys.WORKER_GROUP));
      read = commands.readGroup(RedisKeys.WORKER_GROUP, consumer, streams, count, block);
    }
    // Bells (entries without a job, rung when a concurrency key got work or a free slot) only
    // wake the reader: acknowledged here, the keys' tasks are read through fetch.lua.
    Map<String, List<String>> bells = new LinkedHashMap<>();
    List<Delivery> deliveries = new ArrayList<>(read.size());
    for (StreamEntry e : read) {
      if (e.fields() == null || !e.fields().containsKey(JOB)) {
        bells.computeIfAbsent(e.stream(), s -> new ArrayList<>()).add(e.id());
      } else {
        deliveries.add(delivery(bandOfKey.get(e.stream()), e));
      }
    }
    if (!bells.isEmpty()) {
      runner.run(
          bells.entrySet().stream()
              .map(b -> scripts.ack(b.getKey(), RedisKeys.WORKER_GROUP, b.getValue()))
              .toList());
    }
    return deliveries;
  }

  /**
   * A blocking read of several bands may return up to {@code count} entries from each; keeps the
   * {@code count} of the highest bands and hands the rest back to the tail of their band (appended
   * afresh, the read entries acknowledged, in one pipeline), so no more tasks are taken than there
   * are free slots.
   */
  private List<Delivery> keepHighest(List<Delivery> deliveries, int count) {
    if (deliveries.size() <= count) {
      return deliveries;
    }
    handBack(deliveries.subList(count, deliveries.size()));
    return List.copyOf(deliveries.subList(0, count));
  }

  @Override
  public void handBack(List<Delivery> deliveries) {
    List<ScriptCall> calls = new ArrayList<>(deliveries.size() * 2);
    for (Delivery d : deliveries) {
      calls.addAll(scripts.enqueue(d.queue(), d.jobId(), new int[] {d.seq()}));
      calls.add(scripts.ackReady(d.queue(), RedisKeys.WORKER_GROUP, List.of(d.entryId())));
    }
    runner.run(calls);
  }

  /**
   * Copies each queue's paused state (where newer than Redis's) and rate limit into its control
   * hash, in one pipeline; returns how many paused states were written.
   */
  public int controlQueues(List<QueueControl> controls) {
    List<ScriptCall> calls = new ArrayList<>();
    for (QueueControl control : controls) {
      int n = shards.of(control.queue());
      for (int i = 0; i < n; i++) {
        calls.add(scripts.queueControl(shardControl(control, i, n)));
      }
    }
    return (int) runner.run(calls).stream().mapToLong(QueueScripts::number).sum();
  }

  /**
   * Shard {@code i}'s part of a queue's control: the same pause, and its share of the rate limit,
   * the shares adding up to the queue's rate, so no period holds more starts than the rate.
   */
  static QueueControl shardControl(QueueControl control, int i, int n) {
    if (n == 1) {
      return control;
    }
    QueueRates.Rate rate = control.rate();
    QueueRates.Rate share =
        rate == null
            ? null
            : new QueueRates.Rate(rate.count() / n + (i < rate.count() % n ? 1 : 0), rate.period());
    return new QueueControl(
        QueueShards.shardQueue(control.queue(), i), control.version(), control.paused(), share);
  }

  private void createGroup(String stream, String group) {
    try {
      commands.createGroup(stream, group);
    } catch (RuntimeException e) {
      if (!RedisReplyError.BUSYGROUP.matches(e)) {
        throw new SluiceException(
            "cannot create consumer group " + group + " on " + stream + ": " + e.getMessage(), e);
      }
    }
  }

  /** A {@code fetch.lua} reply: {more, paused, wait, band, id, job, seq, key, limit, …}. */
  private static Fetched fetched(String queue, List<?> reply) {
    List<String> bands = PriorityBand.streams(queue);
    List<Delivery> deliveries = new ArrayList<>((reply.size() - 3) / 6);
    for (int i = 3; i + 5 < reply.size(); i += 6) {
      String band = bands.get((int) QueueScripts.number(reply.get(i)) - 1);
      String key = text(reply.get(i + 4));
      deliveries.add(
          new Delivery(
              key.isEmpty() ? band : band + PriorityBand.KEY_SEPARATOR + key,
              text(reply.get(i + 1)),
              UUID.fromString(text(reply.get(i + 2))),
              Integer.parseInt(text(reply.get(i + 3))),
              (int) QueueScripts.number(reply.get(i + 5))));
    }
    return new Fetched(
        deliveries,
        QueueScripts.number(reply.get(0)) == 1L,
        QueueScripts.number(reply.get(1)) == 1L,
        QueueScripts.number(reply.get(2)));
  }

  /** A bulk string of a script's array reply, as the client hands it over. */
  private static String text(Object value) {
    return switch (value) {
      case byte[] bytes -> new String(bytes, StandardCharsets.UTF_8);
      case ByteBuffer buffer -> StandardCharsets.UTF_8.decode(buffer.duplicate()).toString();
      default -> String.valueOf(value);
    };
  }

  private static Delivery delivery(String queue, StreamEntry e) {
    return new Delivery(
        queue, e.id(), UUID.fromString(e.fields().get(JOB)), Integer.parseInt(e.fields().get(SEQ)));
  }
}
