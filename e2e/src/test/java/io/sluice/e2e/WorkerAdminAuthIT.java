package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ApiTokens;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A worker given API tokens refuses an unauthenticated drain and goes on working. */
@ExtendWith(SluiceTestExtension.class)
class WorkerAdminAuthIT {

  @Test
  void drainWithoutAValidTokenIsRefusedAndChangesNothing(TestEnvironment env) throws Exception {
    try (Stack stack = new Stack(env, 0, 1);
        Worker worker =
            Worker.start(
                Stack.workerConfig(env, "guarded", 4), ApiTokens.parse("ops:ops-token-123"))) {
      HttpClient http = HttpClient.newHttpClient();
      URI drain = URI.create("http://127.0.0.1:" + worker.port() + "/admin/drain");

      HttpResponse<String> none =
          http.send(
              HttpRequest.newBuilder(drain).POST(HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> wrong =
          http.send(
              HttpRequest.newBuilder(drain)
                  .header("Authorization", "Bearer not-the-token")
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(none.statusCode()).isEqualTo(401);
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(Json.read(none.body()).get("error").asText()).contains("Bearer");
      var created = stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":20}}");
      String id = Json.read(created.body()).get("id").asText();
      assertThat(stack.awaitTerminal(id, Duration.ofSeconds(30)).get("status").asText())
          .as("the worker was not drained")
          .isEqualTo("SUCCEEDED");
    }
  }
}
