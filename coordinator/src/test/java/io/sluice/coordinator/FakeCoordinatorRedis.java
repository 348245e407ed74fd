package io.sluice.coordinator;

import io.sluice.queue.InMemoryQueueProtocol;
import io.sluice.queue.QueueControl;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The coordinator's Redis in memory: the shared queue fake plus the marker and queue depths. */
class FakeCoordinatorRedis extends InMemoryQueueProtocol implements CoordinatorRedis {
  private String marker;
  private final List<QueueControl> controlled = new ArrayList<>();

  FakeCoordinatorRedis(Clock clock) {
    super(clock);
  }

  @Override
  public synchronized boolean markerPresent(String value) {
    return value.equals(marker);
  }

  @Override
  public synchronized void setMarker(String value) {
    marker = value;
  }

  /** The server the fake stands for; a test changes it to stage a failover. */
  volatile String master = "127.0.0.1:6379";

  @Override
  public String master() {
    return master;
  }

  @Override
  public synchronized int controlQueues(List<QueueControl> controls) {
    controlled.addAll(controls);
    return controls.size();
  }

  /** Every queue control written, in order. */
  synchronized List<QueueControl> controlled() {
    return List.copyOf(controlled);
  }

  @Override
  public long collectBacklog() {
    return signalled().size();
  }

  @Override
  public synchronized Map<String, QueueDepth> queueDepths(Collection<String> queues) {
    Map<String, QueueDepth> depths = new LinkedHashMap<>();
    queues.forEach(q -> depths.put(q, new QueueDepth(entries(q).size(), pending(q).size(), 0)));
    return depths;
  }
}
