package io.sluice.coordinator.redis;

import static io.sluice.coordinator.redis.LettuceConnections.await;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.CoordinatorRedis;
import io.sluice.queue.RedisQueueProtocol;
import io.sluice.redis.QueueShards;
import io.sluice.redis.RedisKeys;
import io.sluice.redis.RedisReplyError;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The coordinator's Redis on Lettuce, asynchronous and pipelined: the queue protocol of {@link
 * RedisQueueProtocol} over {@link LettuceCommands} (enqueueing a job is one EVALSHA per thousand
 * tasks, all in flight at once), plus the data-loss marker and queue depths.
 */
public final class LettuceCoordination extends RedisQueueProtocol implements CoordinatorRedis {
  private final RedisClusterAsyncCommands<String, String> async;
  private final LettuceConnections connections;

  public LettuceCoordination(RedisConfig config) {
    this(new RedisKeys(config.prefix()), new LettuceConnections(config), config.shards());
  }

  private LettuceCoordination(RedisKeys keys, LettuceConnections connections, QueueShards shards) {
    super(keys, new LettuceCommands(connections), shards);
    this.async = connections.async();
    this.connections = connections;
  }

  @Override
  public String master() {
    return connections.master();
  }

  @Override
  public boolean markerPresent(String value) {
    return value.equals(await(async.get(keys().epochMarker())));
  }

  @Override
  public void setMarker(String value) {
    await(async.set(keys().epochMarker(), value));
  }

  @Override
  public long collectBacklog() {
    return await(async.xlen(keys().collectStream()));
  }

  @Override
  public Map<String, QueueDepth> queueDepths(Collection<String> queues) {
    record Calls(
        CompletableFuture<Long> length,
        CompletableFuture<Long> pending,
        CompletableFuture<List<StreamMessage<String, String>>> oldest,
        CompletableFuture<String> keyed) {}
    Map<String, Calls> calls = new LinkedHashMap<>();
    List<String> streams = new ArrayList<>();
    for (String queue : queues) {
      streams.addAll(QueueShards.hasShard(queue) ? List.of(queue) : shards().streamsOf(queue));
    }
    for (String queue : streams) {
      String stream = keys().readyStream(queue);
      calls.put(
          queue,
          new Calls(
              async.xlen(stream).toCompletableFuture(),
              async
                  .xpending(stream, RedisKeys.WORKER_GROUP)
                  .toCompletableFuture()
                  .thenApply(p -> p.getCount())
                  .exceptionally(LettuceCoordination::noGroupMeansNonePending),
              async.xrange(stream, Range.unbounded(), Limit.from(1)).toCompletableFuture(),
              async.get(keys().keyedUnread(queue)).toCompletableFuture()));
    }
    long now = System.currentTimeMillis();
    Map<String, QueueDepth> depths = new LinkedHashMap<>();
    calls.forEach(
        (queue, c) -> {
          List<StreamMessage<String, String>> oldest = await(c.oldest());
          long age = 0;
          if (!oldest.isEmpty()) {
            String id = oldest.get(0).getId();
            age = Math.max(0, now - Long.parseLong(id.substring(0, id.indexOf('-'))));
          }
          // The band's concurrency keys' unread tasks count as waiting in it.
          String keyed = await(c.keyed());
          long unreadOfKeys = keyed == null ? 0 : Math.max(0, Long.parseLong(keyed));
          depths.put(
              queue, new QueueDepth(await(c.length()) + unreadOfKeys, await(c.pending()), age));
        });
    // A sharded queue's depth is its shards' summed, the age its oldest shard's.
    Map<String, QueueDepth> byQueue = new LinkedHashMap<>();
    for (String queue : queues) {
      List<String> parts = QueueShards.hasShard(queue) ? List.of(queue) : shards().streamsOf(queue);
      long length = 0;
      long pending = 0;
      long age = 0;
      for (String part : parts) {
        QueueDepth d = depths.get(part);
        length += d.length();
        pending += d.pending();
        age = Math.max(age, d.oldestAgeMs());
      }
      byQueue.put(queue, new QueueDepth(length, pending, age));
    }
    return byQueue;
  }

  private static long noGroupMeansNonePending(Throwable e) {
    Throwable cause = LettuceConnections.cause(e);
    if (RedisReplyError.NOGROUP.matches(cause)) {
      return 0; // nothing was ever dispatched to this queue
    }
    throw new CompletionException(cause);
  }
}
