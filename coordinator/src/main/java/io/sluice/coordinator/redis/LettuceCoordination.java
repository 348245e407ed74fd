package io.sluice.coordinator.redis;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.sluice.SluiceException;
import io.sluice.config.RedisConfig;
import io.sluice.redis.LuaScript;
import io.sluice.redis.RedisKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The coordinator's Redis: Lettuce, asynchronous and pipelined. Enqueueing a job is one EVALSHA per
 * thousand tasks, all in flight at once. No Lettuce type leaves this package.
 */
public final class LettuceCoordination implements AutoCloseable {
  private static final int ENQUEUE_CHUNK = 1000;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final RedisClient client;
  private final RedisClient listenerClient;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisAsyncCommands<String, String> async;
  private final RedisKeys keys;

  public LettuceCoordination(RedisConfig config) {
    RedisURI.Builder uri =
        RedisURI.builder()
            .withHost(config.host())
            .withPort(config.port())
            .withSsl(config.tls())
            .withDatabase(config.database())
            .withTimeout(TIMEOUT)
            // No CLIENT SETINFO: it is telemetry, exists only from Redis 7.2 on, and cannot be
            // granted to an ACL user (compose/redis/sluice.acl) on older servers.
            .withLibraryName("")
            .withLibraryVersion("");
    if (config.password() != null) {
      if (config.user() != null) {
        uri.withAuthentication(config.user(), config.password().toCharArray());
      } else {
        uri.withPassword(config.password().toCharArray());
      }
    }
    this.client = RedisClient.create(uri.build());
    // Listeners must notice a lost connection rather than be silently reconnected mid-command, so
    // the supervisor sees the failure, counts it, and restarts the loop on a fresh connection.
    this.listenerClient = RedisClient.create(uri.build());
    listenerClient.setOptions(io.lettuce.core.ClientOptions.builder().autoReconnect(false).build());
    this.connection = client.connect();
    this.async = connection.async();
    this.keys = new RedisKeys(config.prefix());
  }

  public RedisKeys keys() {
    return keys;
  }

  /** Creates the queue's consumer group (and stream) if missing. */
  public void ensureWorkerGroup(String queue) {
    createGroup(keys.readyStream(queue), RedisKeys.WORKER_GROUP);
  }

  /** Creates the collect stream's consumer group if missing. */
  public void ensureCollectGroup() {
    createGroup(keys.collectStream(), RedisKeys.COORDINATOR_GROUP);
  }

  /** Creates a job's fan-in counter with {@code remaining} tasks, unless it exists. */
  public void initFanIn(UUID jobId, int remaining) {
    await(
        eval(
            LuaScript.FANIN_INIT,
            new String[] {keys.remaining(jobId), keys.counted(jobId), keys.countedStaging(jobId)},
            String.valueOf(remaining)));
  }

  /**
   * Rebuilds a job's fan-in from PostgreSQL's finished tasks: they are staged in a bitmap and the
   * counter and bitmap then appear together, unless a counter exists already.
   */
  public void rebuildFanIn(UUID jobId, int taskCount, int[] finishedSeqs) {
    String staging = keys.countedStaging(jobId);
    await(async.unlink(staging).toCompletableFuture());
    List<CompletableFuture<Object>> pending = new ArrayList<>();
    for (int from = 0; from < finishedSeqs.length; from += ENQUEUE_CHUNK) {
      int to = Math.min(finishedSeqs.length, from + ENQUEUE_CHUNK);
      String[] args = new String[to - from];
      for (int i = from; i < to; i++) {
        args[i - from] = Integer.toString(finishedSeqs[i]);
      }
      pending.add(eval(LuaScript.BITMAP_MARK, new String[] {staging}, args));
    }
    pending.forEach(LettuceCoordination::await);
    initFanIn(jobId, taskCount - finishedSeqs.length);
  }

  /** True when the marker this installation set is still in Redis; false after a data loss. */
  public boolean markerPresent(String value) {
    return value.equals(await(async.get(keys.epochMarker()).toCompletableFuture()));
  }

  public void setMarker(String value) {
    await(async.set(keys.epochMarker(), value).toCompletableFuture());
  }

  /** A stream entry taken over from a consumer that held it too long. */
  public record Stale(String entryId, UUID jobId, int seq) {}

  /**
   * Takes over entries of the queue that a worker read but did not acknowledge for {@code minIdle}
   * (it died, or its claim failed while PostgreSQL was down), so they can be appended afresh.
   */
  public List<Stale> takeOverIdleEntries(String queue, Duration minIdle, int count) {
    io.lettuce.core.models.stream.ClaimedMessages<String, String> claimed;
    try {
      claimed =
          await(
              async
                  .xautoclaim(
                      keys.readyStream(queue),
                      io.lettuce.core.XAutoClaimArgs.Builder.xautoclaim(
                              Consumer.from(RedisKeys.WORKER_GROUP, "sluice-reaper"),
                              minIdle,
                              "0-0")
                          .count(count))
                  .toCompletableFuture());
    } catch (SluiceException e) {
      if (e.getMessage() != null && e.getMessage().contains("NOGROUP")) {
        return List.of(); // Nothing was ever dispatched to this stream (a band not used yet).
      }
      throw e;
    }
    List<Stale> stale = new ArrayList<>();
    for (StreamMessage<String, String> m : claimed.getMessages()) {
      if (m.getBody() != null && m.getBody().containsKey("j")) {
        stale.add(
            new Stale(
                m.getId(),
                UUID.fromString(m.getBody().get("j")),
                Integer.parseInt(m.getBody().get("s"))));
      }
    }
    return stale;
  }

  /** Acknowledges and deletes entries of a queue. */
  public void ackEntries(String queue, List<String> entryIds) {
    if (entryIds.isEmpty()) {
      return;
    }
    String[] args = new String[entryIds.size() + 1];
    args[0] = RedisKeys.WORKER_GROUP;
    for (int i = 0; i < entryIds.size(); i++) {
      args[i + 1] = entryIds.get(i);
    }
    await(eval(LuaScript.ACK, new String[] {keys.readyStream(queue)}, args));
  }

  /** Appends tasks to the queue's ready stream, a thousand per script call, all pipelined. */
  public void enqueue(String queue, UUID jobId, int[] seqs) {
    String[] streamKey = {keys.readyStream(queue)};
    List<CompletableFuture<Object>> pending = new ArrayList<>();
    for (int from = 0; from < seqs.length; from += ENQUEUE_CHUNK) {
      int to = Math.min(seqs.length, from + ENQUEUE_CHUNK);
      String[] args = new String[to - from + 1];
      args[0] = jobId.toString();
      for (int i = from; i < to; i++) {
        args[i - from + 1] = Integer.toString(seqs[i]);
      }
      pending.add(eval(LuaScript.ENQUEUE, streamKey, args));
    }
    for (CompletableFuture<Object> f : pending) {
      await(f);
    }
  }

  /** Signals that a job's tasks are all finished. */
  public void signalCollect(UUID jobId) {
    await(
        async
            .xadd(
                keys.collectStream(),
                XAddArgs.Builder.maxlen(100_000).approximateTrimming(),
                "j",
                jobId.toString())
            .toCompletableFuture());
  }

  /** Collect signals not yet acknowledged (acknowledged ones are deleted): one XLEN. */
  public long collectBacklog() {
    return await(async.xlen(keys.collectStream()).toCompletableFuture());
  }

  /** A collect signal read from the stream. */
  public record CollectSignal(String entryId, UUID jobId) {}

  /** Opens a reader of collect signals on its own connection, so blocking never stalls the rest. */
  public CollectReader collectReader(String consumer) {
    StatefulRedisConnection<String, String> blocking = listenerClient.connect();
    // Named, so an operator (or a test) can find it in CLIENT LIST.
    blocking.sync().clientSetname("sluice-collect-listener-" + consumer);
    return new CollectReader(blocking, consumer);
  }

  /** Reads this coordinator's collect signals with XREADGROUP … BLOCK. */
  public final class CollectReader implements AutoCloseable {
    private final StatefulRedisConnection<String, String> blocking;
    private final String consumer;

    private CollectReader(StatefulRedisConnection<String, String> blocking, String consumer) {
      this.blocking = blocking;
      this.consumer = consumer;
    }

    /** Signals not yet read, waiting up to {@code block} for the first. */
    public List<CollectSignal> read(int count, Duration block) {
      List<StreamMessage<String, String>> messages =
          blocking
              .sync()
              .xreadgroup(
                  Consumer.from(RedisKeys.COORDINATOR_GROUP, consumer),
                  XReadArgs.Builder.count(count).block(block),
                  XReadArgs.StreamOffset.lastConsumed(keys.collectStream()));
      List<CollectSignal> signals = new ArrayList<>(messages.size());
      for (StreamMessage<String, String> m : messages) {
        signals.add(new CollectSignal(m.getId(), UUID.fromString(m.getBody().get("j"))));
      }
      return signals;
    }

    @Override
    public void close() {
      blocking.close();
    }
  }

  /** Acknowledges and deletes collect signals. */
  public void ackCollect(List<CollectSignal> signals) {
    if (signals.isEmpty()) {
      return;
    }
    String[] args = new String[signals.size() + 1];
    args[0] = RedisKeys.COORDINATOR_GROUP;
    for (int i = 0; i < signals.size(); i++) {
      args[i + 1] = signals.get(i).entryId();
    }
    await(eval(LuaScript.ACK, new String[] {keys.collectStream()}, args));
  }

  /** Deletes a finished job's keys; its history lives in PostgreSQL. */
  public void deleteJobKeys(UUID jobId) {
    await(async.unlink(keys.remaining(jobId), keys.counted(jobId)).toCompletableFuture());
  }

  /**
   * Counts requeued tasks of a job as unfinished again in its fan-in; returns the remaining count,
   * or -1 when the job has no counter (the caller creates it from PostgreSQL's counts).
   */
  public long reopenFanIn(UUID jobId, int... seqs) {
    String[] args =
        java.util.Arrays.stream(seqs).mapToObj(Integer::toString).toArray(String[]::new);
    Object remaining =
        await(
            eval(
                LuaScript.FANIN_REOPEN,
                new String[] {keys.remaining(jobId), keys.counted(jobId)},
                args));
    return ((Number) remaining).longValue();
  }

  /**
   * A queue's ready stream: its entries not yet acknowledged (acknowledged ones are deleted), how
   * many of them a worker has read, and the age of the oldest; zeros when the stream is missing.
   */
  public record QueueDepth(long length, long pending, long oldestAgeMs) {}

  /** The depth of each queue's ready stream (XLEN, XPENDING summary, oldest entry), pipelined. */
  public java.util.Map<String, QueueDepth> queueDepths(java.util.Collection<String> queues) {
    record Calls(
        CompletableFuture<Long> length,
        CompletableFuture<Long> pending,
        CompletableFuture<List<StreamMessage<String, String>>> oldest) {}
    var calls = new java.util.LinkedHashMap<String, Calls>();
    for (String queue : queues) {
      String stream = keys.readyStream(queue);
      calls.put(
          queue,
          new Calls(
              async.xlen(stream).toCompletableFuture(),
              async
                  .xpending(stream, RedisKeys.WORKER_GROUP)
                  .toCompletableFuture()
                  .thenApply(p -> p.getCount())
                  .exceptionally(LettuceCoordination::noGroupMeansNonePending),
              async
                  .xrange(stream, io.lettuce.core.Range.unbounded(), io.lettuce.core.Limit.from(1))
                  .toCompletableFuture()));
    }
    long now = System.currentTimeMillis();
    var depths = new java.util.LinkedHashMap<String, QueueDepth>();
    calls.forEach(
        (queue, c) -> {
          List<StreamMessage<String, String>> oldest = await(c.oldest());
          long age = 0;
          if (!oldest.isEmpty()) {
            String id = oldest.get(0).getId();
            age = Math.max(0, now - Long.parseLong(id.substring(0, id.indexOf('-'))));
          }
          depths.put(queue, new QueueDepth(await(c.length()), await(c.pending()), age));
        });
    return depths;
  }

  private static long noGroupMeansNonePending(Throwable e) {
    Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
    if (cause != null && String.valueOf(cause.getMessage()).startsWith("NOGROUP")) {
      return 0; // nothing was ever dispatched to this queue
    }
    throw new java.util.concurrent.CompletionException(cause);
  }

  public boolean ping() {
    try {
      return "PONG".equals(async.ping().get(2, TimeUnit.SECONDS));
    } catch (Exception e) {
      return false;
    }
  }

  private void createGroup(String stream, String group) {
    try {
      await(
          async
              .xgroupCreate(
                  XReadArgs.StreamOffset.from(stream, "0"),
                  group,
                  XGroupCreateArgs.Builder.mkstream())
              .toCompletableFuture());
    } catch (SluiceException e) {
      if (e.getMessage() == null || !e.getMessage().contains("BUSYGROUP")) {
        throw e;
      }
    }
  }

  private CompletableFuture<Object> eval(LuaScript script, String[] keys, String... args) {
    RedisFuture<Object> first = async.evalsha(script.sha(), ScriptOutputType.INTEGER, keys, args);
    return first
        .toCompletableFuture()
        .handle(
            (value, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(value);
              }
              Throwable cause =
                  error instanceof java.util.concurrent.CompletionException
                      ? error.getCause()
                      : error;
              if (cause instanceof RedisNoScriptException) {
                // Redis restarted or flushed its script cache: send the source once.
                return async
                    .eval(script.source(), ScriptOutputType.INTEGER, keys, args)
                    .toCompletableFuture();
              }
              return CompletableFuture.<Object>failedFuture(cause);
            })
        .thenCompose(f -> f);
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new SluiceException("Redis call failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new SluiceException("Redis did not answer within " + TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted while waiting for Redis", e);
    }
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
    listenerClient.shutdown();
  }
}
