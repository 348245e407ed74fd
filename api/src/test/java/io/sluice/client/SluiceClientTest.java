package io.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Flow.Subscriber;
import java.util.concurrent.Flow.Subscription;
import org.junit.jupiter.api.Test;

/** The client's retry on conflict against scripted answers: no server, no sleeping. */
class SluiceClientTest {
  private static final UUID ID = UUID.fromString("00000000-0000-0000-0000-000000000001");

  private final Deque<Object> answers = new ArrayDeque<>();
  private final List<String> sent = new ArrayList<>();
  private final List<Duration> waits = new ArrayList<>();
  private final Map<String, Integer> heard = new ConcurrentHashMap<>();
  private final SluiceClient.Listener listener =
      new SluiceClient.Listener() {
        @Override
        public void conflict() {
          heard.merge("conflict", 1, Integer::sum);
        }

        @Override
        public void retried(String reason) {
          heard.merge("retried " + reason, 1, Integer::sum);
        }
      };
  private final SluiceClient client =
      new SluiceClient(
          URI.create("http://coordinator:8080/"),
          "token-123456",
          this::answer,
          new RetryOnConflict(4, Duration.ofMillis(10), Duration.ofMillis(40)),
          waits::add,
          listener);

  @Test
  void aVersionConflictIsRetriedWithAFreshReadAndTheChangeReapplied() {
    answers.add(job(3, 1));
    answers.add(reply(409, "{\"error\":\"stale\",\"currentVersion\":4}"));
    answers.add(job(4, 5));
    answers.add(job(5, 6));

    JobSnapshot result = client.update(ID, j -> JobUpdate.priority(j.priority() + 1));

    assertThat(result.priority()).isEqualTo(6);
    assertThat(sent)
        .containsExactly(
            "GET null", "PATCH \"3\" {\"priority\":2}", "GET null", "PATCH \"4\" {\"priority\":6}");
    assertThat(heard.get("conflict")).isEqualTo(1);
    assertThat(heard.get("retried conflict")).isEqualTo(1);
    assertThat(waits).hasSize(1);
  }

  @Test
  void aValidationErrorIsNeverRetried() {
    answers.add(job(3, 1));
    answers.add(reply(400, "{\"error\":\"priority must be an integer\",\"field\":\"priority\"}"));

    assertThatThrownBy(() -> client.update(ID, j -> JobUpdate.priority(5000)))
        .isInstanceOfSatisfying(
            SluiceApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.isRetryable()).isFalse();
            });
    assertThat(sent).hasSize(2);
    assertThat(waits).isEmpty();
  }

  @Test
  void aFinishedJobsConflictOffersNoVersionAndIsNotRetried() {
    answers.add(job(3, 1));
    answers.add(reply(409, "{\"error\":\"job is SUCCEEDED\",\"status\":\"SUCCEEDED\"}"));

    assertThatThrownBy(() -> client.update(ID, j -> JobUpdate.priority(2)))
        .isInstanceOf(SluiceApiException.class);
    assertThat(sent).hasSize(2);
  }

  @Test
  void aLostConnectionAndABusyDatabaseAreRetriedHonouringRetryAfter() {
    answers.add(job(3, 1));
    answers.add(new IOException("Connection reset"));
    answers.add(reply(503, "{\"error\":\"busy\",\"retryable\":true}", "2"));
    answers.add(job(3, 1));
    answers.add(job(4, 2));

    assertThat(client.update(ID, j -> JobUpdate.priority(2)).version()).isEqualTo(4);
    assertThat(heard.get("retried connection")).isEqualTo(1);
    assertThat(heard.get("retried unavailable")).isEqualTo(1);
    assertThat(waits.get(1)).as("Retry-After: 2").isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void itGivesUpAfterMaxAttemptsWithTheLastConflict() {
    for (int i = 0; i < 4; i++) {
      answers.add(job(3 + i, 1));
      answers.add(reply(409, "{\"error\":\"stale\",\"currentVersion\":" + (4 + i) + "}"));
    }

    assertThatThrownBy(() -> client.update(ID, j -> JobUpdate.priority(2)))
        .isInstanceOfSatisfying(
            SluiceApiException.class, e -> assertThat(e.currentVersion()).hasValue(7));
    assertThat(waits).hasSize(3);
    assertThat(heard.get("conflict")).isEqualTo(4);
  }

  @Test
  void backoffGrowsExponentiallyWithFullJitterUpToTheCap() {
    RetryOnConflict policy = new RetryOnConflict(10, Duration.ofMillis(10), Duration.ofMillis(80));
    SplittableRandom random = new SplittableRandom(7);
    for (int attempt = 1; attempt <= 8; attempt++) {
      long ceiling = Math.min(80, 10L << (attempt - 1));
      for (int i = 0; i < 200; i++) {
        assertThat(policy.backoff(attempt, null, random).toMillis()).isBetween(0L, ceiling);
      }
    }
    assertThat(policy.backoff(1, Duration.ofSeconds(3), random)).isEqualTo(Duration.ofSeconds(3));
  }

  private SluiceClient.Reply answer(HttpRequest request) throws IOException {
    sent.add(
        request.method()
            + " "
            + request.headers().firstValue("If-Match").orElse(null)
            + body(request));
    assertThat(request.headers().firstValue("Authorization")).hasValue("Bearer token-123456");
    assertThat(request.uri().toString()).startsWith("http://coordinator:8080/api/v1/jobs/" + ID);
    Object next = answers.removeFirst();
    if (next instanceof IOException e) {
      throw e;
    }
    return (SluiceClient.Reply) next;
  }

  /** The request body as sent, after a space; empty without one. */
  static String body(HttpRequest request) {
    return request
        .bodyPublisher()
        .filter(p -> p.contentLength() > 0)
        .map(p -> " " + read(p))
        .orElse("");
  }

  private static String read(HttpRequest.BodyPublisher publisher) {
    var out = new ByteArrayOutputStream();
    var done = new CompletableFuture<Void>();
    publisher.subscribe(
        new Subscriber<>() {
          @Override
          public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
          }

          @Override
          public void onNext(ByteBuffer item) {
            byte[] bytes = new byte[item.remaining()];
            item.get(bytes);
            out.writeBytes(bytes);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onComplete() {
            done.complete(null);
          }
        });
    done.join();
    return out.toString(StandardCharsets.UTF_8);
  }

  private static SluiceClient.Reply job(long version, int priority) {
    return new SluiceClient.Reply(
        200,
        "{\"id\":\""
            + ID
            + "\",\"status\":\"RUNNING\",\"version\":"
            + version
            + ",\"priority\":"
            + priority
            + "}",
        "\"" + version + "\"",
        null);
  }

  private static SluiceClient.Reply reply(int status, String body) {
    return reply(status, body, null);
  }

  private static SluiceClient.Reply reply(int status, String body, String retryAfter) {
    return new SluiceClient.Reply(status, body, null, retryAfter);
  }
}
