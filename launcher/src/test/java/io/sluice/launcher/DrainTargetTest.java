package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class DrainTargetTest {
  private static final JsonNode WORKERS =
      read(
          """
          {"items":[
            {"id":"w1","kind":"worker","status":"UP","heartbeatAgeMs":300,"info":{"port":40123}},
            {"id":"w2","kind":"worker","status":"DEAD","heartbeatAgeMs":95000,"info":{"port":40124}},
            {"id":"w3","kind":"worker","status":"UP","heartbeatAgeMs":300,"info":{}},
            {"id":"c1","kind":"coordinator","status":"UP","heartbeatAgeMs":300,"info":{"port":8080}}
          ]}
          """);

  @Test
  void aUrlGetsTheDrainPathUnlessItHasIt() {
    assertThat(DrainTarget.ofUrl("http://10.0.0.7:8081").url())
        .hasToString("http://10.0.0.7:8081/admin/drain");
    assertThat(DrainTarget.ofUrl("http://10.0.0.7:8081/").url())
        .hasToString("http://10.0.0.7:8081/admin/drain");
    assertThat(DrainTarget.ofUrl("https://w.example/admin/drain").url())
        .hasToString("https://w.example/admin/drain");
    assertThat(DrainTarget.ofUrl("http://w:1").workerId()).isNull();
    assertThat(DrainTarget.isUrl("w1")).isFalse();
  }

  @Test
  void aWorkerIdIsReachedOnItsListedPortAtTheGivenHost() {
    DrainTarget target = DrainTarget.ofWorker("w1", WORKERS, "127.0.0.1");
    assertThat(target.workerId()).isEqualTo("w1");
    assertThat(target.url()).hasToString("http://127.0.0.1:40123/admin/drain");
    assertThat(DrainTarget.ofWorker("w1", WORKERS, "::1").url())
        .hasToString("http://[::1]:40123/admin/drain");
  }

  @Test
  void onlyALiveListedWorkerWithAPortCanBeDrainedById() {
    assertThatThrownBy(() -> DrainTarget.ofWorker("w9", WORKERS, "h"))
        .hasMessage(
            "the coordinator lists no worker 'w9' among its 4 nodes; ./sluice workers shows them")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(1));
    assertThatThrownBy(() -> DrainTarget.ofWorker("w2", WORKERS, "h"))
        .hasMessage("worker w2 is DEAD (last heartbeat 1m35s ago): there is nothing to drain");
    assertThatThrownBy(() -> DrainTarget.ofWorker("w3", WORKERS, "h"))
        .hasMessage("worker w3 does not report its HTTP port; drain it by URL");
    assertThatThrownBy(() -> DrainTarget.ofWorker("c1", WORKERS, "h"))
        .hasMessage("c1 is a coordinator, not a worker; only workers drain");
  }

  private static JsonNode read(String json) {
    try {
      return CliClient.JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
