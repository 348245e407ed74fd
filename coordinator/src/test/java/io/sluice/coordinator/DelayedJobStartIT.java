package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A delayed job starts within one sweep interval of its {@code runAt}, whatever the dispatch grace
 * (which is for repairing a dispatch that did not finish, not for starting delayed jobs).
 */
@ExtendWith(SluiceTestExtension.class)
class DelayedJobStartIT {
  private static final Duration SWEEP = Duration.ofMillis(500);
  private static final Duration MARGIN = Duration.ofMillis(1500);

  @Test
  void aDelayedJobStartsWithinOneSweepIntervalOfItsRunAt(TestEnvironment env) throws Exception {
    try (Coordinator coordinator =
        Coordinator.start(
            RepairFixture.config(env)
                .sweepInterval(SWEEP)
                .dispatchGrace(Duration.ofSeconds(30))
                .build())) {
      Instant runAt = Instant.now().plusSeconds(2).truncatedTo(ChronoUnit.MILLIS);
      HttpResponse<String> created =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + coordinator.port() + "/api/v1/jobs"))
                      .header("Content-Type", "application/json")
                      .header("Authorization", "Bearer " + RepairFixture.TOKEN)
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"type\":\"counting\",\"runAt\":\""
                                  + runAt
                                  + "\",\"payload\":{\"tasks\":2,\"key\":\"delayed\"}}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      UUID id = UUID.fromString(Json.read(created.body()).get("id").asText());

      Duration bound = Duration.between(Instant.now(), runAt).plus(SWEEP).plus(MARGIN);
      Awaitility.await("dispatched within one sweep interval of runAt")
          .atMost(bound)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> "RUNNING".equals(RepairFixture.status(env, id)));
      assertThat(Instant.now()).as("not before runAt").isAfterOrEqualTo(runAt);
    }
  }
}
