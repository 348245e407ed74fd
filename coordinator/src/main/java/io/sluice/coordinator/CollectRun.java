package io.sluice.coordinator;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.store.Database;
import io.sluice.store.PostgresCollectAttempts;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a job's collector on a thread of its own: the boundary where whatever a collector
 * throws, an {@link Error} included, becomes a failed attempt instead of killing the thread that
 * asked for the collection. The caller waits up to the timeout, heartbeating the collection row
 * meanwhile; a collector that overruns is interrupted and its attempt fails.
 */
final class CollectRun {
  private static final Logger log = LoggerFactory.getLogger(CollectRun.class);

  /** What a collector computes, reading its input on a connection of its own. */
  @FunctionalInterface
  interface Body {
    JsonNode run() throws Exception;
  }

  /** How one run ended. */
  sealed interface Outcome permits Done, Failed, Lost {}

  /** The collector returned its result. */
  record Done(JsonNode result) implements Outcome {}

  /** The collector threw or overran: a failed attempt. */
  record Failed(String error) implements Outcome {}

  /** The gate was lost (taken over) or this coordinator is stopping: commit nothing. */
  record Lost(String why) implements Outcome {}

  private final Database db;
  private final PostgresCollectAttempts attempts;
  private final Duration timeout;
  private final Duration heartbeatEvery;

  CollectRun(
      Database db, PostgresCollectAttempts attempts, Duration timeout, Duration heartbeatEvery) {
    this.db = db;
    this.attempts = attempts;
    this.timeout = timeout;
    this.heartbeatEvery = heartbeatEvery;
  }

  Outcome run(UUID jobId, long version, Body body) {
    CompletableFuture<JsonNode> result = new CompletableFuture<>();
    Thread thread =
        Thread.ofPlatform()
            .daemon()
            .name("sluice-collector-" + jobId)
            .start(
                () -> {
                  try {
                    result.complete(body.run());
                  } catch (Throwable t) {
                    result.completeExceptionally(t);
                  }
                });
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      try {
        return new Done(result.get(Math.min(left, heartbeatEvery.toNanos()), NANOSECONDS));
      } catch (ExecutionException e) {
        return new Failed(describe(e.getCause()));
      } catch (InterruptedException e) {
        thread.interrupt();
        Thread.currentThread().interrupt();
        return new Lost("this coordinator is stopping");
      } catch (TimeoutException e) {
        if (System.nanoTime() - deadline >= 0) {
          thread.interrupt();
          return new Failed("timed out after " + timeout);
        }
        if (!heartbeat(jobId, version)) {
          thread.interrupt();
          return new Lost("another coordinator took the collection over");
        }
      }
    }
  }

  private boolean heartbeat(UUID jobId, long version) {
    try {
      return db.inTransaction(c -> attempts.heartbeat(c, jobId, version));
    } catch (RuntimeException e) {
      // PostgreSQL unreachable: the collector goes on; its commit is fenced by the version anyway.
      log.debug("Heartbeat of collection {} failed: {}", jobId, e.toString());
      return true;
    }
  }

  private static String describe(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getName() : message;
  }
}
