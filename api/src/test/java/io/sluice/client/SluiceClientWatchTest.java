package io.sluice.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Spliterators;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** The event-stream watch and the one-stage builder against scripted streams: no server. */
class SluiceClientWatchTest {
  private static final UUID ID = UUID.fromString("00000000-0000-0000-0000-000000000007");

  private static final String DONE =
      "{\"id\":\"" + ID + "\",\"status\":\"SUCCEEDED\",\"version\":9,\"labels\":{\"a\":\"b\"}}";

  private final Deque<Object> streams = new ArrayDeque<>();
  private final List<String> reads = new ArrayList<>();
  private final List<String> opened = new ArrayList<>();
  private final List<String> retried = new ArrayList<>();
  private final SluiceClient client =
      new SluiceClient(
          URI.create("http://coordinator:8080"),
          "token-123456",
          r -> {
            reads.add(r.method() + " " + r.uri().getPath());
            return new SluiceClient.Reply(200, DONE, "\"9\"", null);
          },
          r -> {
            opened.add(
                r.uri().getPath() + " " + r.headers().firstValue("Authorization").orElse(""));
            Object next = streams.removeFirst();
            if (next instanceof IOException e) {
              throw e;
            }
            return (EventStream.Lines) next;
          },
          new RetryOnConflict(3, Duration.ofMillis(1), Duration.ofMillis(2)),
          d -> {},
          new SluiceClient.Listener() {
            @Override
            public void retried(String reason) {
              retried.add(reason);
            }
          });

  @Test
  void aWatchHandsOverEveryEventInOrderThenReadsTheEndedJob() {
    streams.add(
        ok(
            frame("state", 1, "RUNNING", 1),
            frame("progress", 2, "RUNNING", 2),
            frame("state", 3, "SUCCEEDED", 5),
            frame("end", 4, "SUCCEEDED", 5)));
    List<String> seen = new ArrayList<>();

    JobSnapshot done = client.watch(ID, Duration.ofMinutes(1), e -> seen.add(e.kind() + e.id()));

    assertThat(seen).containsExactly("state1", "progress2", "state3", "end4");
    assertThat(done.status()).isEqualTo("SUCCEEDED");
    assertThat(done.version()).isEqualTo(9);
    assertThat(done.labels()).containsEntry("a", "b");
    assertThat(reads).containsExactly("GET /api/v1/jobs/" + ID);
    assertThat(opened).containsExactly("/api/v1/jobs/" + ID + "/events Bearer token-123456");
  }

  @Test
  void aStreamThatBreaksBeforeItsEndIsOpenedAgainAndStartsFromTheSnapshot() {
    streams.add(ok(frame("state", 1, "RUNNING", 1))); // ends without "end": a restart
    streams.add(new IOException("Connection refused"));
    streams.add(broken(frame("state", 1, "RUNNING", 2))); // reset while reading
    streams.add(ok(frame("state", 1, "COLLECTING", 3), frame("end", 2, "SUCCEEDED", 4)));
    List<String> seen = new ArrayList<>();

    client.watch(ID, Duration.ofMinutes(1), e -> seen.add(e.data().path("status").asText()));

    assertThat(seen).containsExactly("RUNNING", "RUNNING", "COLLECTING", "SUCCEEDED");
    assertThat(opened).hasSize(4);
    assertThat(retried).containsExactly("connection", "connection");
  }

  @Test
  void aRefusedStreamIsTheServersErrorAndIsNotOpenedAgain() {
    streams.add(
        new EventStream.Lines(404, Stream.of("{\"error\":\"no job with id " + ID + "\"}"), null));

    assertThatThrownBy(() -> client.watch(ID, Duration.ofMinutes(1), e -> {}))
        .isInstanceOfSatisfying(
            SluiceApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.getMessage()).contains("no job with id");
            });
    assertThat(opened).hasSize(1);
    assertThat(reads).isEmpty();
  }

  @Test
  void aStreamThatKeepsFailingEndsInConnectionLostAfterTheRetries() {
    for (int i = 0; i < 3; i++) {
      streams.add(new IOException("Connection refused"));
    }
    assertThatThrownBy(() -> client.watch(ID, Duration.ofMinutes(1), e -> {}))
        .isInstanceOf(SluiceClient.ConnectionLostException.class);
    assertThat(opened).hasSize(3);
  }

  @Test
  void theOneStageBuilderWritesEveryFieldAndStaysImmutable() {
    JobRequest base = JobRequest.of("wordcount", Json.object().put("text", "a b"));
    JobRequest full =
        base.queue("reports")
            .idempotencyKey("k-1")
            .priority(5)
            .maxAttempts(2)
            .onTaskFailure("continue")
            .label("team", "blue")
            .label("env", "prod")
            .runAt(Instant.parse("2030-01-01T09:00:00Z"));

    assertThat(Json.write(full.toJson()))
        .isEqualTo(
            "{\"type\":\"wordcount\",\"payload\":{\"text\":\"a b\"},\"queue\":\"reports\","
                + "\"idempotencyKey\":\"k-1\",\"priority\":5,\"maxAttempts\":2,"
                + "\"onTaskFailure\":\"continue\",\"labels\":{\"team\":\"blue\",\"env\":\"prod\"},"
                + "\"runAt\":\"2030-01-01T09:00:00Z\"}");
    assertThat(Json.write(base.toJson()))
        .isEqualTo("{\"type\":\"wordcount\",\"payload\":{\"text\":\"a b\"}}");
    assertThat(JobRequest.of("noop", null).toJson().get("payload").isObject()).isTrue();
  }

  private static String[] frame(String kind, long id, String status, long version) {
    String data =
        "{\"id\":\"" + ID + "\",\"status\":\"" + status + "\",\"version\":" + version + "}";
    return new String[] {"event: " + kind, "id: " + id, "data: " + data, ""};
  }

  private static EventStream.Lines ok(String[]... frames) {
    return new EventStream.Lines(200, Stream.of(frames).flatMap(Stream::of), null);
  }

  /** A stream whose connection resets after its frames. */
  private static EventStream.Lines broken(String[]... frames) {
    Iterator<String> lines = Stream.of(frames).flatMap(Stream::of).iterator();
    Iterator<String> failing =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            if (!lines.hasNext()) {
              throw new UncheckedIOException(new IOException("Connection reset"));
            }
            return true;
          }

          @Override
          public String next() {
            return lines.next();
          }
        };
    return new EventStream.Lines(
        200, StreamSupport.stream(Spliterators.spliteratorUnknownSize(failing, 0), false), null);
  }
}
