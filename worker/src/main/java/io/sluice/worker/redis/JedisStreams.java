package io.sluice.worker.redis;

import io.sluice.queue.StreamEntry;
import io.sluice.queue.StreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.StreamEntryID;

/** What the single-node and the cluster commands share in reading streams through Jedis. */
final class JedisStreams {
  /** XREADGROUP of new entries, however the caller reaches Redis. */
  interface GroupReads {
    List<StreamEntry> readGroup(
        String group, String consumer, List<String> streams, int count, Duration block);
  }

  private JedisStreams() {}

  /**
   * The entries an XAUTOCLAIM handed over, as entries of {@code stream}, leaving out those deleted
   * meanwhile (Redis answers them with null fields).
   */
  static List<StreamEntry> claimed(
      String stream, Map.Entry<StreamEntryID, List<redis.clients.jedis.resps.StreamEntry>> reply) {
    List<StreamEntry> entries = new ArrayList<>();
    for (var e : reply.getValue()) {
      if (e != null && e.getFields() != null) {
        entries.add(new StreamEntry(stream, e.getID().toString(), e.getFields()));
      }
    }
    return entries;
  }

  /**
   * A reader that borrows a pooled connection for each read, like a fetch does, so it holds nothing
   * to close.
   */
  static StreamReader borrowing(GroupReads reads) {
    return new StreamReader() {
      @Override
      public List<StreamEntry> readGroup(
          String group, String consumer, List<String> streams, int count, Duration block) {
        return reads.readGroup(group, consumer, streams, count, block);
      }

      @Override
      public void close() {}
    };
  }
}
