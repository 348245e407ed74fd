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
import java.util.function.Function;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.util.Pool;

/**
 * The queue protocol's commands on Jedis, blocking: each call borrows a pooled connection for its
 * duration, so every fetch thread reads on a connection of its own; batches go in one pipeline.
 */
final class JedisCommands implements QueueCommands {
  private final Pool<Jedis> pool;

  JedisCommands(Pool<Jedis> pool) {
    this.pool = pool;
  }

  @Override
  public List<StreamEntry> readGroup(
      String group, String consumer, List<String> streams, int count, Duration block) {
    Map<String, StreamEntryID> offsets = new LinkedHashMap<>();
    streams.forEach(s -> offsets.put(s, StreamEntryID.UNRECEIVED_ENTRY));
    XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(count);
    if (block != null) {
      params.block((int) block.toMillis());
    }
    var read = withJedis(jedis -> jedis.xreadGroup(group, consumer, params, offsets));
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
  public void createGroup(String stream, String group) {
    withJedis(jedis -> jedis.xgroupCreate(stream, group, new StreamEntryID(), true));
  }

  @Override
  public List<Object> evalsha(List<ScriptCall> calls) {
    return withJedis(
        jedis -> {
          try (Pipeline p = jedis.pipelined()) {
            for (ScriptCall call : calls) {
              p.evalsha(call.script().sha(), call.keys(), call.args());
            }
            // Error replies come back as JedisDataException elements, which the runner reads.
            return p.syncAndReturnAll();
          }
        });
  }

  @Override
  public void scriptLoad(Collection<? extends Script> scripts) {
    // Only after NOSCRIPT, so one round trip per script is fine (Jedis pipelines need a key here).
    withJedis(
        jedis -> {
          scripts.forEach(s -> jedis.scriptLoad(s.source()));
          return null;
        });
  }

  @Override
  public void xadd(String stream, long maxLength, List<Map<String, String>> entries) {
    XAddParams params = XAddParams.xAddParams().maxLen(maxLength).approximateTrimming();
    withJedis(
        jedis -> {
          try (Pipeline p = jedis.pipelined()) {
            entries.forEach(fields -> p.xadd(stream, params, fields));
            p.sync();
          }
          return null;
        });
  }

  @Override
  public void unlink(List<List<String>> keyGroups) {
    withJedis(
        jedis -> {
          try (Pipeline p = jedis.pipelined()) {
            keyGroups.forEach(keys -> p.unlink(keys.toArray(String[]::new)));
            p.sync();
          }
          return null;
        });
  }

  @Override
  public List<StreamEntry> autoClaim(
      String stream, String group, String consumer, Duration minIdle, int count) {
    var claimed =
        withJedis(
            jedis ->
                jedis.xautoclaim(
                    stream,
                    group,
                    consumer,
                    minIdle.toMillis(),
                    new StreamEntryID(),
                    XAutoClaimParams.xAutoClaimParams().count(count)));
    return JedisStreams.claimed(stream, claimed);
  }

  @Override
  public StreamReader openReader(String clientName) {
    // The pool's connections carry the worker's name; a reader borrows one per read like a fetch.
    return JedisStreams.borrowing(this::readGroup);
  }

  @Override
  public boolean ping() {
    return "PONG".equals(withJedis(Jedis::ping));
  }

  @Override
  public void close() {
    pool.close();
  }

  private <T> T withJedis(Function<Jedis, T> call) {
    try (Jedis jedis = pool.getResource()) {
      return call.apply(jedis);
    }
  }
}
