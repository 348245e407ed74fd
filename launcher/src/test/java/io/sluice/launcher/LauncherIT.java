package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.FreePort;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The launcher end to end: real embedded servers and real coordinator and worker JVMs, started from
 * the test classpath exactly as {@code ./sluice} starts them from {@code launcher/target/lib}.
 */
class LauncherIT {

  @Test
  void demoRunsAPipelineWhoseMergedCountMatchesTheLocalOne() throws Exception {
    Output out = new Output();
    Output err = new Output();
    int exit = Main.run("demo", List.of(), out.stream(), err.stream());
    assertThat(exit).as("exit code; output:%n%s%n%s", out, err).isZero();
    assertThat(out.toString())
        .contains("Job SUCCEEDED")
        .containsPattern("(?m)^left +\\[#+\\] \\d+/\\d+ tasks +100%  SUCCEEDED")
        .containsPattern("(?m)^right +\\[#+\\] \\d+/\\d+ tasks +100%  SUCCEEDED")
        .containsPattern("(?m)^total +\\[#+\\] 2/2 tasks +100%  SUCCEEDED")
        .contains("Merged result of stage total")
        .contains("totalWords")
        .containsPattern("counts .*: match")
        .contains(": match")
        .doesNotContain("MISMATCH")
        .contains("Demo finished");
  }

  @Test
  void benchPrintsOneJsonLineWithThroughputAndPercentiles() throws Exception {
    Output out = new Output();
    Output err = new Output();
    int exit =
        Main.run("bench", List.of("--tasks", "2000", "--workers", "1"), out.stream(), err.stream());
    assertThat(exit).as("exit code; stderr:%n%s", err).isZero();
    String[] lines = out.toString().strip().split("\n");
    assertThat(lines).hasSize(1);
    JsonNode json = CliClient.JSON.readTree(lines[0]);
    assertThat(json.path("tool").asText()).isEqualTo("sluice");
    assertThat(json.path("n").asInt()).isEqualTo(2000);
    assertThat(json.path("workers").asInt()).isEqualTo(1);
    assertThat(json.path("tasks_per_s").asLong()).isPositive();
    long p50 = json.path("p50_ms").asLong();
    long p99 = json.path("p99_ms").asLong();
    assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
    assertThat(p99).isLessThanOrEqualTo(json.path("total_ms").asLong());
    // The servers' own counters: embedded servers here, so nothing else counts.
    assertThat(json.path("scenario").asText()).isEqualTo("fanout");
    assertThat(json.path("servers").asText()).isEqualTo("embedded");
    assertThat(json.path("pg_tuples").path("tasks").path("ins").asLong()).isEqualTo(2000);
    assertThat(json.path("pg_tuples").path("jobs").path("ins").asLong()).isEqualTo(1);
    assertThat(json.path("tasks_total").asLong()).isEqualTo(2000);
    assertThat(json.path("pg_xacts").asLong()).isPositive();
    assertThat(json.path("pg_statements").asLong()).isPositive();
    assertThat(json.path("redis_commands").path("total").asLong()).isPositive();
    assertThat(json.path("heap_peak_mb").path("coordinator").asDouble()).isPositive();
  }

  @Test
  void clientCommandsSayPlainlyWhenTheCoordinatorCannotBeReached() {
    String url = "http://127.0.0.1:" + FreePort.find();
    ClientCommands client =
        new ClientCommands(
            CliClient.create(url, "t"),
            System.out,
            System.err,
            new ByteArrayInputStream(new byte[0]));
    assertThatThrownBy(() -> client.status(List.of("some-job")))
        .isInstanceOf(LauncherException.class)
        .hasMessageContaining("cannot reach the coordinator at " + url)
        .hasMessageContaining("SLUICE_API_URL")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(3));
  }

  @Test
  void submitRejectsAPayloadThatIsNotJsonBeforeSendingIt() {
    ClientCommands client =
        new ClientCommands(
            CliClient.create("http://127.0.0.1:" + FreePort.find(), "t"),
            System.out,
            System.err,
            new ByteArrayInputStream("{not json".getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> client.submit(List.of("--type", "noop", "--payload", "-")))
        .hasMessageContaining("payload from standard input is not JSON")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(2));
  }

  private static final class Output {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    PrintStream stream() {
      return stream;
    }

    @Override
    public String toString() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }
}
