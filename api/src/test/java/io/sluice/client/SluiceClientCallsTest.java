package io.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every call's retry rule and error mapping against scripted answers: no server, no sleeping. */
class SluiceClientCallsTest {
  private static final UUID ID = UUID.fromString("00000000-0000-0000-0000-000000000002");
  private static final String JOB = "{\"id\":\"" + ID + "\",\"status\":\"QUEUED\",\"version\":1}";

  private final Deque<Object> answers = new ArrayDeque<>();
  private final List<String> sent = new ArrayList<>();
  private final List<Duration> waits = new ArrayList<>();
  private final List<String> retried = new ArrayList<>();
  private final SluiceClient client =
      new SluiceClient(
          URI.create("http://coordinator:8080"),
          " token-123456 ",
          this::answer,
          new RetryOnConflict(3, Duration.ofMillis(10), Duration.ofMillis(40)),
          waits::add,
          new SluiceClient.Listener() {
            @Override
            public void retried(String reason) {
              retried.add(reason);
            }
          });

  @Test
  void aReadIsRetriedAfterALostConnectionAndA503HonouringRetryAfter() {
    answers.add(new IOException("Connection reset"));
    answers.add(reply(503, "{\"error\":\"PostgreSQL is unavailable; retry shortly\"}", "2"));
    answers.add(reply(200, JOB));

    assertThat(client.get(ID).status()).isEqualTo("QUEUED");
    assertThat(sent)
        .containsExactly(
            "GET /api/v1/jobs/" + ID, "GET /api/v1/jobs/" + ID, "GET /api/v1/jobs/" + ID);
    assertThat(retried).containsExactly("connection", "unavailable");
    assertThat(waits.get(1)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aReadGivesUpAfterMaxAttemptsWithTheLastRefusal() {
    for (int i = 0; i < 3; i++) {
      answers.add(reply(429, "{\"error\":\"rate limit\"}", "1"));
    }
    assertThatThrownBy(() -> client.jobs(null, null, 10))
        .isInstanceOfSatisfying(
            SluiceApiException.class, e -> assertThat(e.status()).isEqualTo(429));
    assertThat(sent).hasSize(3);
    assertThat(retried).containsExactly("rate_limited", "rate_limited");
  }

  @Test
  void aSubmitWithoutAnIdempotencyKeyIsNeverSentTwice() {
    answers.add(new IOException("Connection reset"));
    assertThatThrownBy(() -> client.submit("noop", Json.object().put("tasks", 1)))
        .isInstanceOfSatisfying(
            SluiceClient.ConnectionLostException.class,
            e -> {
              assertThat(e.method()).isEqualTo("POST");
              assertThat(e.uri()).hasToString("http://coordinator:8080/api/v1/jobs");
            });

    answers.add(reply(503, "{\"error\":\"the coordinator is overloaded\"}", "1"));
    assertThatThrownBy(() -> client.submit("noop", Json.object()))
        .isInstanceOf(SluiceApiException.class);
    assertThat(sent).hasSize(2);
    assertThat(retried).isEmpty();
  }

  @Test
  void aSubmitWithAnIdempotencyKeyIsRetriedAndTheRepeatAnswersTheSameJob() {
    answers.add(new IOException("Connection reset"));
    answers.add(reply(200, JOB));

    JobSnapshot job =
        client.submit(Json.object().put("type", "noop").put("idempotencyKey", "order-7"));

    assertThat(job.id()).isEqualTo(ID);
    assertThat(sent).containsExactly("POST /api/v1/jobs", "POST /api/v1/jobs");
    assertThat(retried).containsExactly("connection");
  }

  @Test
  void aRequeueAndADrainAreSentOnceWhateverTheAnswer() {
    answers.add(reply(503, "{\"error\":\"busy\"}", "1"));
    assertThatThrownBy(() -> client.requeue(ID, 3, 7L)).isInstanceOf(SluiceApiException.class);
    answers.add(new IOException("Connection refused"));
    assertThatThrownBy(() -> client.drainWorker(URI.create("http://w:8081/admin/drain")))
        .isInstanceOf(SluiceClient.ConnectionLostException.class);
    assertThat(sent)
        .containsExactly(
            "POST /api/v1/jobs/" + ID + "/tasks/3/requeue If-Match \"7\"", "POST /admin/drain");
  }

  @Test
  void aRefusalIsNeverRetriedAndNamesTheRequestAndTheBodyAsSent() {
    answers.add(reply(404, "<html>not here</html>"));
    assertThatThrownBy(() -> client.cancel("no such/job"))
        .isInstanceOfSatisfying(
            SluiceApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.method()).isEqualTo("POST");
              assertThat(e.path()).isEqualTo("/api/v1/jobs/no+such/job/cancel");
              assertThat(e.rawBody()).isEqualTo("<html>not here</html>");
              assertThat(e.body().path("error").asText()).isEqualTo("<html>not here</html>");
              assertThat(e.isRetryable()).isFalse();
            });
    assertThat(sent).containsExactly("POST /api/v1/jobs/no+such%2Fjob/cancel");
  }

  @Test
  void aPageCarriesItsQueryAndItsCursor() {
    answers.add(reply(200, "{\"items\":[{\"seq\":0},{\"seq\":1}],\"nextCursor\":\"1\"}"));
    Page page = client.tasks(ID, "FAILED", "a&b", 2);
    assertThat(page.items()).hasSize(2);
    assertThat(page.nextCursor()).isEqualTo("1");
    assertThat(sent)
        .containsExactly("GET /api/v1/jobs/" + ID + "/tasks?limit=2&status=FAILED&cursor=a%26b");

    answers.add(reply(200, "{\"items\":[],\"nextCursor\":null}"));
    assertThat(client.deadLetters(5).nextCursor()).isNull();
  }

  @Test
  void readinessIsFalseWhileTheServerIsUnreadyOrAway() {
    answers.add(reply(503, "{\"status\":\"DOWN\"}"));
    answers.add(new IOException("Connection refused"));
    answers.add(reply(200, "{\"status\":\"UP\"}"));
    assertThat(client.ready()).isFalse();
    assertThat(client.ready()).isFalse();
    assertThat(client.ready()).isTrue();
    assertThat(retried).isEmpty();
  }

  private SluiceClient.Reply answer(HttpRequest request) throws IOException {
    String uri = request.uri().getRawPath();
    if (request.uri().getRawQuery() != null) {
      uri += "?" + request.uri().getRawQuery();
    }
    sent.add(
        request.method()
            + " "
            + uri
            + request.headers().firstValue("If-Match").map(v -> " If-Match " + v).orElse(""));
    assertThat(request.headers().firstValue("Authorization")).hasValue("Bearer token-123456");
    assertThat(request.timeout()).isPresent();
    Object next = answers.removeFirst();
    if (next instanceof IOException e) {
      throw e;
    }
    return (SluiceClient.Reply) next;
  }

  private static SluiceClient.Reply reply(int status, String body) {
    return reply(status, body, null);
  }

  private static SluiceClient.Reply reply(int status, String body, String retryAfter) {
    return new SluiceClient.Reply(status, body, null, retryAfter);
  }
}
