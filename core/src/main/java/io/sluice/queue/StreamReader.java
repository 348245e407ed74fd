package io.sluice.queue;

import java.time.Duration;
import java.util.List;

/** XREADGROUP of new entries ({@code >}) on a connection this reader may hold on to. */
public interface StreamReader extends AutoCloseable {
  /**
   * Reads up to {@code count} entries of each stream not yet delivered to the group.
   *
   * @param block how long to wait for the first entry, or null not to wait
   * @return the entries, in stream order of {@code streams}; empty when none
   */
  List<StreamEntry> readGroup(
      String group, String consumer, List<String> streams, int count, Duration block);

  @Override
  void close();
}
