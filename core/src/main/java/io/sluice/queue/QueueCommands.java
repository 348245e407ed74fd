package io.sluice.queue;

import io.sluice.redis.Script;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The Redis commands the queue protocol is built on, each mapped by an adapter to its client
 * (Lettuce in the coordinator, Jedis in the worker). An adapter holds no protocol knowledge: key
 * layout, script arguments, priority bands and error handling live in {@link RedisQueueProtocol}.
 * Errors are thrown as the client's exceptions and recognised by {@link
 * io.sluice.redis.RedisReplyError}.
 */
public interface QueueCommands extends StreamReader {
  /** XGROUP CREATE {@code stream group 0 MKSTREAM}; throws the BUSYGROUP reply when it exists. */
  void createGroup(String stream, String group);

  /**
   * EVALSHA of every call in one pipeline. An element of the result is the call's reply (a Long, or
   * a List for {@link Script#repliesWithArray()}), or the RuntimeException of its error reply.
   */
  List<Object> evalsha(List<ScriptCall> calls);

  /** SCRIPT LOAD of each script, pipelined. */
  void scriptLoad(Collection<? extends Script> scripts);

  /** XADD {@code stream MAXLEN ~ maxLength * fields} for each entry, pipelined. */
  void xadd(String stream, long maxLength, List<Map<String, String>> entries);

  /** One UNLINK per group of keys (keys of one group share a hash tag), pipelined. */
  void unlink(List<List<String>> keyGroups);

  /** XAUTOCLAIM {@code stream group consumer minIdle 0-0 COUNT count}; skips deleted entries. */
  List<StreamEntry> autoClaim(
      String stream, String group, String consumer, Duration minIdle, int count);

  /** A reader on a connection of its own, named {@code clientName} where the client allows. */
  StreamReader openReader(String clientName);

  /**
   * Whether every read must keep to the keys of one slot (a Redis Cluster): then a blocking read
   * over several queues is made one queue's hash tag at a time.
   */
  default boolean singleSlotReads() {
    return false;
  }

  /** Whether Redis answers PING. */
  boolean ping();
}
