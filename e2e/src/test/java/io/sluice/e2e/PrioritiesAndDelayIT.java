package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Higher-priority tasks of a queue start first; a job with {@code runAt} does not start before it.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrioritiesAndDelayIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private Stack stack;
  private JobApi api;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 0, 1);
    api = new JobApi(stack);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  @Order(1)
  void tasksWaitingInAQueueStartHighestPriorityFirstThenInOrder(TestEnvironment env) {
    UUID low = api.createRunning(job(-5));
    UUID normal = api.createRunning(job(0));
    UUID high = api.createRunning(job(7));

    stack.workers.add(Worker.start(Stack.workerConfig(env, "prio", 1)));
    for (UUID id : List.of(low, normal, high)) {
      assertThat(stack.awaitTerminal(id.toString(), WAIT).get("status").asText())
          .isEqualTo("SUCCEEDED");
    }

    List<String> expected = new ArrayList<>();
    for (UUID id : List.of(high, normal, low)) {
      for (int seq = 0; seq < 8; seq++) {
        expected.add(id + ":" + seq);
      }
    }
    List<String> started =
        ProbeJobType.START_ORDER.stream().filter(s -> expected.contains(s)).toList();
    assertThat(started).as("one worker, one slot: start order").isEqualTo(expected);
  }

  @Test
  @Order(2)
  void aJobWithRunAtStartsNoTaskBeforeThenAndACancelledOneNever() {
    Instant runAt = Instant.now().plusSeconds(7).truncatedTo(ChronoUnit.MILLIS);
    String body =
        "{\"type\":\"probe\",\"runAt\":\"" + runAt + "\",\"payload\":{\"tasks\":4,\"holdMs\":10}}";
    HttpResponse<String> created = api.submit(Stack.TOKEN, body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    UUID delayed = UUID.fromString(Json.read(created.body()).get("id").asText());
    assertThat(Instant.parse(Json.read(created.body()).get("runAt").asText())).isEqualTo(runAt);
    UUID cancelled = api.create(body);
    UUID past =
        api.create(
            "{\"type\":\"probe\",\"runAt\":\"2001-01-01T00:00:00Z\",\"payload\":{\"tasks\":2}}");

    assertThat(api.cancel(cancelled).statusCode()).isEqualTo(200);
    assertThat(stack.awaitTerminal(past.toString(), WAIT).get("status").asText())
        .as("a runAt in the past starts at once")
        .isEqualTo("SUCCEEDED");
    // Watched until just before runAt: past the 5 s dispatch grace after which a QUEUED job is
    // dispatched again, were it not delayed.
    Duration watch = Duration.between(Instant.now(), runAt.minusMillis(300));
    await("nothing starts before runAt, not even past the dispatch grace")
        .during(watch)
        .atMost(watch.plusSeconds(1))
        .until(
            () ->
                ProbeJobType.started(delayed).isEmpty()
                    && api.job(delayed).get("status").asText().equals("QUEUED"));
    assertThat(stack.awaitTerminal(delayed.toString(), WAIT).get("status").asText())
        .isEqualTo("SUCCEEDED");
    assertThat(
            api.count(
                "SELECT count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id"
                    + " WHERE j.id = ? AND (t.started_at IS NULL OR t.started_at < j.run_at)",
                delayed))
        .as("every task started at or after runAt")
        .isZero();
    assertThat(ProbeJobType.started(cancelled))
        .as("a cancelled delayed job never starts")
        .isEmpty();
    assertThat(api.job(cancelled).get("status").asText()).isEqualTo("CANCELLED");
  }

  @Test
  @Order(3)
  void aRunAtThatIsNotATimeOrTooFarAheadIsRefused() {
    HttpResponse<String> garbled =
        api.submit(
            Stack.TOKEN, "{\"type\":\"probe\",\"runAt\":\"tomorrow\",\"payload\":{\"tasks\":1}}");
    HttpResponse<String> far =
        api.submit(
            Stack.TOKEN,
            "{\"type\":\"probe\",\"runAt\":\""
                + Instant.now().plusSeconds(400L * 86400)
                + "\",\"payload\":{\"tasks\":1}}");
    assertThat(garbled.statusCode()).isEqualTo(400);
    assertThat(Json.read(garbled.body()).get("field").asText()).isEqualTo("runAt");
    assertThat(far.statusCode()).isEqualTo(400);
    assertThat(Json.read(far.body()).get("error").asText()).contains("at most 366 days");
  }

  private static String job(int priority) {
    return "{\"type\":\"probe\",\"priority\":" + priority + ",\"payload\":{\"tasks\":8}}";
  }
}
