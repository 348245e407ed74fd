package io.sluice.client;

import io.sluice.SluiceException;
import io.sluice.client.SluiceClient.ConnectionLostException;
import io.sluice.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Iterator;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Follows one job's event stream to its {@code end}. A stream that breaks before its end (the
 * coordinator restarted, a proxy timed out) is opened again after the client's backoff, against
 * whichever coordinator answers; a new stream starts with the job's whole snapshot, so nothing of
 * the job's state is missed, only intermediate progress. Reconnecting is safe: it only reads.
 */
final class EventStream {
  /** Opens a stream: its status and, on 200, its lines; the seam tests answer without a server. */
  interface Source {
    Lines open(HttpRequest request) throws IOException, InterruptedException;
  }

  /** A stream's status and lines (an error's body on a status other than 200). */
  record Lines(int status, Stream<String> lines, String retryAfter) {}

  private final Source source;
  private final Exchange exchange;
  private final RetryOnConflict retry;

  EventStream(Source source, Exchange exchange, RetryOnConflict retry) {
    this.source = source;
    this.exchange = exchange;
    this.retry = retry;
  }

  /**
   * Hands every event to {@code onEvent} until the {@code end} event.
   *
   * @throws SluiceApiException the stream was refused (404 for a job of another tenant)
   * @throws ConnectionLostException the stream broke more often in a row than the retry allows
   */
  void follow(HttpRequest request, UUID id, Duration timeout, Consumer<JobEvent> onEvent) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int failures = 0; ; ) {
      if (System.nanoTime() - deadline > 0) {
        throw new SluiceException("job " + id + " did not end within " + timeout);
      }
      try {
        if (readUntilEnd(request, onEvent)) {
          return;
        }
        failures = 0; // it ran, then ended early: a fresh count for the next stream
      } catch (ConnectionLostException e) {
        if (++failures >= retry.maxAttempts()) {
          throw e;
        }
        exchange.pause(failures, "connection", null, e);
      }
    }
  }

  /** Reads one stream; true once its {@code end} came, false when it broke before. */
  private boolean readUntilEnd(HttpRequest request, Consumer<JobEvent> onEvent) {
    Lines lines;
    try {
      lines = source.open(request);
    } catch (IOException e) {
      throw new ConnectionLostException(request.method(), request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted watching " + request.uri(), e);
    }
    try (Stream<String> body = lines.lines()) {
      if (lines.status() != 200) {
        String text = body.collect(Collectors.joining("\n"));
        throw new SluiceApiException(
            lines.status(),
            Exchange.errorBody(text),
            Exchange.retryAfter(lines.retryAfter()),
            request.method(),
            request.uri().getPath(),
            text);
      }
      return parse(body.iterator(), onEvent);
    } catch (UncheckedIOException e) {
      throw new ConnectionLostException(request.method(), request.uri(), e.getCause());
    }
  }

  /** Server-sent event frames: {@code event:}, {@code id:}, {@code data:} lines, a blank line. */
  static boolean parse(Iterator<String> lines, Consumer<JobEvent> onEvent) {
    String kind = null;
    long id = 0;
    StringBuilder data = new StringBuilder();
    while (lines.hasNext()) {
      String line = lines.next();
      if (line.isEmpty()) {
        if (kind != null) {
          onEvent.accept(
              new JobEvent(kind, id, Json.read(data.isEmpty() ? "{}" : data.toString())));
          if (kind.equals("end")) {
            return true;
          }
        }
        kind = null;
        data.setLength(0);
      } else if (line.startsWith("event:")) {
        kind = line.substring(6).trim();
      } else if (line.startsWith("id:")) {
        id = Long.parseLong(line.substring(3).trim());
      } else if (line.startsWith("data:")) {
        data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).trim());
      }
    }
    return false;
  }
}
