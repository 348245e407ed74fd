package io.sluice.coordinator;

import io.sluice.queue.QueueControl;
import io.sluice.queue.QueueProtocol;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's Redis: the queue protocol, plus what only the coordinator asks of Redis, the
 * marker that tells it Redis lost its data and the depth of queues and the collect stream.
 */
public interface CoordinatorRedis extends QueueProtocol {
  /** True when the marker this installation set is still in Redis; false after a data loss. */
  boolean markerPresent(String value);

  /** Sets the data-loss marker, after a rebuild. */
  void setMarker(String value);

  /**
   * The server Sluice writes to now, as {@code host:port}: with Sentinel, the master the sentinels
   * name (a change means a failover, which may have lost the writes not yet replicated); otherwise
   * the one configured server.
   */
  String master();

  /** Collect signals not yet acknowledged (acknowledged ones are deleted): one XLEN. */
  long collectBacklog();

  /**
   * A queue's ready stream: its entries not yet acknowledged (acknowledged ones are deleted), how
   * many of them a worker has read, and the age of the oldest; zeros when the stream is missing.
   */
  record QueueDepth(long length, long pending, long oldestAgeMs) {}

  /**
   * Copies each queue's paused state (where newer than Redis's) and rate limit into its control
   * hash, pipelined; returns how many paused states were written.
   */
  int controlQueues(List<QueueControl> controls);

  /**
   * The depth of each queue's ready stream (XLEN, XPENDING summary, oldest entry), pipelined; the
   * length includes the tasks of the band's concurrency keys that no worker has read yet.
   */
  Map<String, QueueDepth> queueDepths(Collection<String> queues);
}
