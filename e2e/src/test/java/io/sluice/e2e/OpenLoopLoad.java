package io.sluice.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load: requests sent on a fixed schedule whatever the server answers, so a server
 * that falls behind sees the offered rate, not a rate its slowness throttles (no coordinated
 * omission). Each answer remembers when its request was due, which is where its latency starts.
 */
final class OpenLoopLoad {
  /** One request's fate; status -1 when it got no answer in time. */
  record Answer(long dueMillis, int status, String retryAfter, String body) {}

  private final HttpClient http =
      HttpClient.newBuilder()
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI uri;
  private final String token;
  private final Duration requestTimeout;

  OpenLoopLoad(String url, String token, Duration requestTimeout) {
    this.uri = URI.create(url);
    this.token = token;
    this.requestTimeout = requestTimeout;
  }

  /**
   * Posts {@code body} {@code ratePerSecond} times a second for {@code duration}, then waits for
   * every answer (at most the request timeout beyond the end): a bounded count in a bounded time.
   */
  List<Answer> run(String body, double ratePerSecond, Duration duration) {
    long count = Math.round(ratePerSecond * duration.toMillis() / 1000.0);
    long periodNanos = (long) (1e9 / ratePerSecond);
    ConcurrentLinkedQueue<CompletableFuture<Answer>> sent = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    long startMillis = System.currentTimeMillis();
    for (long i = 0; i < count; i++) {
      long due = start + i * periodNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait); // pacing the schedule, not waiting for an outcome
      }
      sent.add(send(body, startMillis + (due - start) / 1_000_000));
    }
    return sent.stream()
        .map(
            f -> {
              try {
                return f.get(requestTimeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
              } catch (Exception e) {
                return new Answer(0, -1, null, e.toString());
              }
            })
        .toList();
  }

  CompletableFuture<Answer> send(String body, long dueMillis) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(requestTimeout)
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenApply(
            r ->
                new Answer(
                    dueMillis,
                    r.statusCode(),
                    r.headers().firstValue("Retry-After").orElse(null),
                    r.body()))
        .exceptionally(e -> new Answer(dueMillis, -1, null, e.toString()));
  }
}
