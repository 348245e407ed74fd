package io.sluice.worker.redis;

import io.sluice.SluiceException;
import io.sluice.config.RedisConfig;
import io.sluice.redis.LuaScript;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.RedisKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;

/**
 * The worker's Redis: Jedis, blocking. Each fetch thread borrows its own pooled connection for
 * XREADGROUP … BLOCK; acknowledgements and fan-in for a whole batch go in one pipeline. No Jedis
 * type leaves this package.
 */
public final class JedisTaskQueue implements AutoCloseable {
  private final JedisPool pool;
  private final RedisKeys keys;

  public JedisTaskQueue(RedisConfig config, int connections) {
    this(config, connections, "sluice-worker");
  }

  /** {@code clientName} names the connections in CLIENT LIST, e.g. after the worker id. */
  public JedisTaskQueue(RedisConfig config, int connections, String clientName) {
    this.pool = JedisPools.create(config, connections, clientName);
    this.keys = new RedisKeys(config.prefix());
  }

  /** One stream entry naming a task. */
  public record Delivery(String queue, String entryId, UUID jobId, int seq) {}

  /**
   * Reads up to {@code count} new entries of the queue for this consumer from its priority bands,
   * highest first: a lower band is read only when the higher ones hold fewer entries than wanted.
   * When every band is empty it blocks up to blockMs on all of them at once. Each delivery names
   * the band's stream it came from ({@link PriorityBand#stream}), which is where it is
   * acknowledged.
   */
  public List<Delivery> fetch(String queue, String consumer, int count, int blockMs) {
    List<String> bands = PriorityBand.streams(queue);
    try (Jedis jedis = pool.getResource()) {
      List<Delivery> deliveries = new ArrayList<>();
      for (String band : bands) {
        deliveries.addAll(read(jedis, List.of(band), consumer, count - deliveries.size(), null));
        if (deliveries.size() >= count) {
          return deliveries;
        }
      }
      if (!deliveries.isEmpty()) {
        return deliveries;
      }
      return keepHighest(jedis, read(jedis, bands, consumer, count, blockMs), count);
    }
  }

  /** One XREADGROUP of the given band streams; recreates missing groups (Redis lost them). */
  private List<Delivery> read(
      Jedis jedis, List<String> bands, String consumer, int count, Integer blockMs) {
    Map<String, StreamEntryID> offsets = new LinkedHashMap<>();
    Map<String, String> bandOfKey = new LinkedHashMap<>();
    for (String band : bands) {
      offsets.put(keys.readyStream(band), StreamEntryID.UNRECEIVED_ENTRY);
      bandOfKey.put(keys.readyStream(band), band);
    }
    XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(count);
    if (blockMs != null) {
      params.block(blockMs);
    }
    List<Map.Entry<String, List<StreamEntry>>> read;
    try {
      read = jedis.xreadGroup(RedisKeys.WORKER_GROUP, consumer, params, offsets);
    } catch (JedisDataException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("NOGROUP")) {
        throw e;
      }
      // A band never used yet, or Redis lost the group (restart or flush): create it, read again.
      offsets.keySet().forEach(stream -> ensureGroup(jedis, stream));
      read = jedis.xreadGroup(RedisKeys.WORKER_GROUP, consumer, params, offsets);
    }
    List<Delivery> deliveries = new ArrayList<>();
    if (read != null) {
      for (var streamEntries : read) {
        String band = bandOfKey.get(streamEntries.getKey());
        for (StreamEntry e : streamEntries.getValue()) {
          deliveries.add(
              new Delivery(
                  band,
                  e.getID().toString(),
                  UUID.fromString(e.getFields().get("j")),
                  Integer.parseInt(e.getFields().get("s"))));
        }
      }
    }
    return deliveries;
  }

  /**
   * A blocking read of several bands may return up to {@code count} entries from each; keeps the
   * {@code count} of the highest bands and hands the rest back to the tail of their band (appended
   * afresh, the read entries acknowledged), so no more tasks are taken than there are free slots.
   */
  private List<Delivery> keepHighest(Jedis jedis, List<Delivery> deliveries, int count) {
    if (deliveries.size() <= count) {
      return deliveries;
    }
    List<Delivery> kept = new ArrayList<>(deliveries.subList(0, count));
    for (Delivery d : deliveries.subList(count, deliveries.size())) {
      String stream = keys.readyStream(d.queue());
      jedis.eval(
          LuaScript.ENQUEUE.source(),
          List.of(stream),
          List.of(d.jobId().toString(), String.valueOf(d.seq())));
      jedis.eval(
          LuaScript.ACK.source(), List.of(stream), List.of(RedisKeys.WORKER_GROUP, d.entryId()));
    }
    return kept;
  }

  /** Creates the queue's consumer group if it is missing. */
  public void ensureGroup(String queue) {
    try (Jedis jedis = pool.getResource()) {
      ensureGroup(jedis, keys.readyStream(queue));
    }
  }

  /**
   * The outcome of counting a job's finished tasks: {@code crossed} for the one call that hit zero.
   */
  public record FanIn(long remaining, boolean crossed) {
    public boolean counterMissing() {
      return remaining < 0;
    }
  }

  /**
   * One pipeline for a committed batch: acknowledges and deletes the entries, counts each job's
   * finished tasks, and returns each job's fan-in outcome.
   */
  public Map<UUID, FanIn> acknowledge(
      Map<String, List<String>> entriesByQueue, Map<UUID, List<Integer>> finishedByJob) {
    try (Jedis jedis = pool.getResource()) {
      try {
        return pipeline(jedis, entriesByQueue, finishedByJob);
      } catch (JedisDataException e) {
        if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
          throw e;
        }
        for (LuaScript script : LuaScript.values()) {
          jedis.scriptLoad(script.source());
        }
        return pipeline(jedis, entriesByQueue, finishedByJob);
      }
    }
  }

  /** Appends tasks of one job to a queue's ready stream (a drained worker handing tasks back). */
  public void enqueue(String queue, UUID jobId, List<Integer> seqs) {
    List<String> args = new ArrayList<>(seqs.size() + 1);
    args.add(jobId.toString());
    seqs.forEach(s -> args.add(String.valueOf(s)));
    try (Jedis jedis = pool.getResource()) {
      jedis.eval(LuaScript.ENQUEUE.source(), List.of(keys.readyStream(queue)), args);
    }
  }

  /** Deletes finished jobs' fan-in keys. */
  public void deleteJobKeys(List<UUID> jobIds) {
    try (Jedis jedis = pool.getResource();
        Pipeline p = jedis.pipelined()) {
      for (UUID id : jobIds) {
        p.unlink(keys.remaining(id), keys.counted(id));
      }
      p.sync();
    }
  }

  /** Tells the coordinators that these jobs have all their tasks finished. */
  public void signalCollect(List<UUID> jobIds) {
    try (Jedis jedis = pool.getResource();
        Pipeline p = jedis.pipelined()) {
      for (UUID id : jobIds) {
        p.xadd(
            keys.collectStream(),
            XAddParams.xAddParams().maxLen(100_000).approximateTrimming(),
            Map.of("j", id.toString()));
      }
      p.sync();
    }
  }

  public boolean ping() {
    try (Jedis jedis = pool.getResource()) {
      return "PONG".equals(jedis.ping());
    } catch (RuntimeException e) {
      return false;
    }
  }

  private Map<UUID, FanIn> pipeline(
      Jedis jedis,
      Map<String, List<String>> entriesByQueue,
      Map<UUID, List<Integer>> finishedByJob) {
    Map<UUID, Response<Object>> fanIns = new LinkedHashMap<>();
    try (Pipeline p = jedis.pipelined()) {
      // Fan-in first: a worker that dies part-way leaves its entries unacknowledged, and their
      // redelivery counts again what this did not (the bitmap counts each task once).
      finishedByJob.forEach(
          (jobId, seqs) ->
              fanIns.put(
                  jobId,
                  p.evalsha(
                      LuaScript.FANIN.sha(),
                      List.of(keys.remaining(jobId), keys.counted(jobId)),
                      seqs.stream().map(String::valueOf).toList())));
      entriesByQueue.forEach(
          (queue, ids) -> {
            List<String> args = new ArrayList<>(ids.size() + 1);
            args.add(RedisKeys.WORKER_GROUP);
            args.addAll(ids);
            p.evalsha(LuaScript.ACK.sha(), List.of(keys.readyStream(queue)), args);
          });
      List<Object> replies = p.syncAndReturnAll();
      for (Object reply : replies) {
        if (reply instanceof JedisDataException e) {
          throw e;
        }
      }
    }
    Map<UUID, FanIn> result = new LinkedHashMap<>();
    fanIns.forEach(
        (jobId, response) -> {
          List<?> reply = (List<?>) response.get();
          result.put(jobId, new FanIn((Long) reply.get(0), ((Long) reply.get(1)) == 1L));
        });
    return result;
  }

  private static void ensureGroup(Jedis jedis, String stream) {
    try {
      jedis.xgroupCreate(stream, RedisKeys.WORKER_GROUP, new StreamEntryID(), true);
    } catch (JedisDataException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) {
        throw new SluiceException(
            "cannot create consumer group on " + stream + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
