package io.sluice.queue;

import java.time.Duration;
import java.util.List;

/**
 * Reads one consumer's collect signals on a connection of its own, so a blocking read never stalls
 * other commands. Closing it from another thread ends a read in progress.
 */
public interface CollectReader extends AutoCloseable {
  /** Signals not yet read by this consumer, waiting up to {@code block} for the first. */
  List<CollectSignal> read(int count, Duration block);

  @Override
  void close();
}
