package io.sluice.worker.redis;

import io.sluice.queue.QueueCommands;
import io.sluice.queue.ScriptCall;
import io.sluice.queue.StreamEntry;
import io.sluice.queue.StreamReader;
import io.sluice.redis.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import redis.clients.jedis.ClusterPipeline;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.providers.ClusterConnectionProvider;
import redis.clients.jedis.util.JedisClusterCRC16;

/**
 * The queue protocol's commands on a Redis Cluster: single commands go through {@link
 * JedisCluster}, which follows MOVED and refreshes its slot map after a failover; batches go in a
 * {@link ClusterPipeline}, one pipeline per master, each call sent to the master of its first key's
 * slot (every script's keys share one hash tag). A batch that fails on a connection refreshes the
 * slot map before the error goes up, so the caller's retry reaches the promoted replica.
 */
final class JedisClusterCommands implements QueueCommands {
  private final ClusterConnectionProvider provider;
  private final JedisCluster cluster;

  JedisClusterCommands(ClusterConnectionProvider provider) {
    this.provider = provider;
    this.cluster = new JedisCluster(provider, 5, Duration.ofSeconds(20));
  }

  JedisCluster cluster() {
    return cluster;
  }

  /** The milliseconds of Redis's clock on the master of {@code key}'s slot. */
  long timeMillis(String key) {
    try (Connection c = provider.getConnectionFromSlot(JedisClusterCRC16.getSlot(key));
        Jedis jedis = new Jedis(c)) {
      List<String> time = jedis.time();
      return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }
  }

  /** The keys of one read share a slot: the protocol reads one queue's hash tag at a time. */
  @Override
  public List<StreamEntry> readGroup(
      String group, String consumer, List<String> streams, int count, Duration block) {
    Map<String, StreamEntryID> offsets = new LinkedHashMap<>();
    streams.forEach(s -> offsets.put(s, StreamEntryID.UNRECEIVED_ENTRY));
    XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(count);
    if (block != null) {
      params.block((int) block.toMillis());
    }
    var read = cluster.xreadGroup(group, consumer, params, offsets);
    List<StreamEntry> entries = new ArrayList<>();
    if (read != null) {
      for (var stream : read) {
        for (var e : stream.getValue()) {
          entries.add(new StreamEntry(stream.getKey(), e.getID().toString(), e.getFields()));
        }
      }
    }
    return entries;
  }

  @Override
  public boolean singleSlotReads() {
    return true;
  }

  @Override
  public void createGroup(String stream, String group) {
    cluster.xgroupCreate(stream, group, new StreamEntryID(), true);
  }

  @Override
  public List<Object> evalsha(List<ScriptCall> calls) {
    List<Response<Object>> sent = new ArrayList<>(calls.size());
    pipelined(p -> calls.forEach(c -> sent.add(p.evalsha(c.script().sha(), c.keys(), c.args()))));
    List<Object> replies = new ArrayList<>(sent.size());
    for (Response<Object> reply : sent) {
      try {
        replies.add(reply.get());
      } catch (JedisDataException e) {
        replies.add(e); // the runner reads error replies (NOSCRIPT) from the list
      }
    }
    return replies;
  }

  /** On every master: each one runs the scripts of its own slots, after a failover too. */
  @Override
  public void scriptLoad(Collection<? extends Script> scripts) {
    provider.renewSlotCache();
    for (ConnectionPool pool : provider.getNodes().values()) {
      try (Connection c = pool.getResource();
          Jedis jedis = new Jedis(c)) {
        scripts.forEach(s -> jedis.scriptLoad(s.source()));
      } catch (RuntimeException e) {
        // A dead node or a replica that refuses: the masters that matter answered or will be
        // asked again at the next NOSCRIPT.
      }
    }
  }

  @Override
  public void xadd(String stream, long maxLength, List<Map<String, String>> entries) {
    XAddParams params = XAddParams.xAddParams().maxLen(maxLength).approximateTrimming();
    pipelined(p -> entries.forEach(fields -> p.xadd(stream, params, fields)));
  }

  @Override
  public void unlink(List<List<String>> keyGroups) {
    pipelined(p -> keyGroups.forEach(keys -> p.unlink(keys.toArray(String[]::new))));
  }

  @Override
  public List<StreamEntry> autoClaim(
      String stream, String group, String consumer, Duration minIdle, int count) {
    var claimed =
        cluster.xautoclaim(
            stream,
            group,
            consumer,
            minIdle.toMillis(),
            new StreamEntryID(),
            XAutoClaimParams.xAutoClaimParams().count(count));
    return JedisStreams.claimed(stream, claimed);
  }

  @Override
  public StreamReader openReader(String clientName) {
    return JedisStreams.borrowing(this::readGroup);
  }

  /** Whether the master of the slot of an arbitrary key answers. */
  @Override
  public boolean ping() {
    try (Connection c = provider.getConnectionFromSlot(0);
        Jedis jedis = new Jedis(c)) {
      return "PONG".equals(jedis.ping());
    }
  }

  @Override
  public void close() {
    cluster.close();
  }

  private void pipelined(Consumer<ClusterPipeline> batch) {
    try (ClusterPipeline p = new ClusterPipeline(provider)) {
      batch.accept(p);
      p.sync();
    } catch (RuntimeException e) {
      if (!(e instanceof JedisDataException)) {
        provider.renewSlotCache();
      }
      throw e;
    }
  }
}
