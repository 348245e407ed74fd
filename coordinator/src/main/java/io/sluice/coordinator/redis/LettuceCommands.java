package io.sluice.coordinator.redis;

import static io.sluice.coordinator.redis.LettuceConnections.await;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.sluice.queue.QueueCommands;
import io.sluice.queue.ScriptCall;
import io.sluice.queue.StreamEntry;
import io.sluice.queue.StreamReader;
import io.sluice.redis.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The queue protocol's commands on Lettuce: every batch is sent at once on the shared connection
 * (Lettuce pipelines what is in flight) and then awaited. Blocking reads never use the shared
 * connection: they would stall every other command behind them.
 */
final class LettuceCommands implements QueueCommands {
  private final LettuceConnections connections;
  private final RedisClusterAsyncCommands<String, String> async;
  private StreamReader fetchReader;

  LettuceCommands(LettuceConnections connections) {
    this.connections = connections;
    this.async = connections.async();
  }

  /** The coordinator does not fetch tasks; this reader exists so the protocol is complete. */
  @Override
  public synchronized List<StreamEntry> readGroup(
      String group, String consumer, List<String> streams, int count, Duration block) {
    if (fetchReader == null) {
      fetchReader = openReader("sluice-coordinator-fetch");
    }
    return fetchReader.readGroup(group, consumer, streams, count, block);
  }

  @Override
  public void createGroup(String stream, String group) {
    await(
        async.xgroupCreate(
            XReadArgs.StreamOffset.from(stream, "0"), group, XGroupCreateArgs.Builder.mkstream()));
  }

  @Override
  public List<Object> evalsha(List<ScriptCall> calls) {
    List<RedisFuture<Object>> sent = new ArrayList<>(calls.size());
    for (ScriptCall call : calls) {
      ScriptOutputType type =
          call.script().repliesWithArray() ? ScriptOutputType.MULTI : ScriptOutputType.INTEGER;
      sent.add(
          async.evalsha(
              call.script().sha(),
              type,
              call.keys().toArray(String[]::new),
              call.args().toArray(String[]::new)));
    }
    List<Object> replies = new ArrayList<>(sent.size());
    for (RedisFuture<Object> reply : sent) {
      try {
        replies.add(await(reply));
      } catch (RuntimeException e) {
        replies.add(e);
      }
    }
    return replies;
  }

  @Override
  public void scriptLoad(Collection<? extends Script> scripts) {
    awaitAll(scripts.stream().map(s -> async.scriptLoad(s.source())).toList());
  }

  @Override
  public void xadd(String stream, long maxLength, List<Map<String, String>> entries) {
    XAddArgs args = XAddArgs.Builder.maxlen(maxLength).approximateTrimming();
    awaitAll(entries.stream().map(fields -> async.xadd(stream, args, fields)).toList());
  }

  @Override
  public void unlink(List<List<String>> keyGroups) {
    awaitAll(keyGroups.stream().map(keys -> async.unlink(keys.toArray(String[]::new))).toList());
  }

  @Override
  public List<StreamEntry> autoClaim(
      String stream, String group, String consumer, Duration minIdle, int count) {
    var claimed =
        await(
            async.xautoclaim(
                stream,
                XAutoClaimArgs.Builder.xautoclaim(Consumer.from(group, consumer), minIdle, "0-0")
                    .count(count)));
    return entries(claimed.getMessages());
  }

  @Override
  public StreamReader openReader(String clientName) {
    LettuceConnections.Blocking blocking = connections.openBlocking(clientName);
    return new StreamReader() {
      @Override
      public List<StreamEntry> readGroup(
          String group, String consumer, List<String> streams, int count, Duration block) {
        XReadArgs args = XReadArgs.Builder.count(count);
        if (block != null) {
          args.block(block);
        }
        return entries(
            blocking
                .sync()
                .xreadgroup(
                    Consumer.from(group, consumer),
                    args,
                    streams.stream()
                        .map(XReadArgs.StreamOffset::lastConsumed)
                        .toArray(XReadArgs.StreamOffset[]::new)));
      }

      @Override
      public void close() {
        blocking.connection().close();
      }
    };
  }

  @Override
  public boolean singleSlotReads() {
    return connections.cluster();
  }

  @Override
  public boolean ping() {
    try {
      return "PONG".equals(async.ping().get(2, TimeUnit.SECONDS));
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public synchronized void close() {
    if (fetchReader != null) {
      fetchReader.close();
    }
    connections.close();
  }

  private static List<StreamEntry> entries(List<StreamMessage<String, String>> messages) {
    List<StreamEntry> entries = new ArrayList<>(messages.size());
    for (StreamMessage<String, String> m : messages) {
      if (m.getBody() != null) {
        entries.add(new StreamEntry(m.getStream(), m.getId(), m.getBody()));
      }
    }
    return entries;
  }

  private static void awaitAll(List<? extends RedisFuture<?>> sent) {
    sent.forEach(LettuceConnections::await);
  }
}
