package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.launcher.BenchOptions.Scenario;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void noScenarioIsTodaysFanOutWithTodaysFlags() {
    BenchOptions o =
        BenchOptions.parse(
            List.of(
                "--tasks",
                "1_000",
                "--workers=3",
                "--concurrency",
                "8",
                "--stages",
                "2",
                "--keep-logs"));
    assertThat(o.scenario()).isEqualTo(Scenario.FANOUT);
    assertThat(o.tasks()).isEqualTo(1000);
    assertThat(o.workers()).isEqualTo(3);
    assertThat(o.concurrency()).isEqualTo(8);
    assertThat(o.stages()).isEqualTo(2);
    assertThat(o.keepLogs()).isTrue();
    assertThat(o.profile()).isFalse();
    assertThat(o.heap()).isNull();
    assertThat(BenchOptions.parse(List.of()).tasks()).isEqualTo(50_000);
    assertThat(BenchOptions.parse(List.of()).maxInFlight()).isEqualTo(4096);
  }

  @Test
  void eachScenarioHasItsOwnDefaults() {
    BenchOptions scale = BenchOptions.parse(List.of("--scenario", "scale"));
    assertThat(scale.tasks()).isEqualTo(1_000_000);
    assertThat(scale.heap()).isEqualTo("256m");
    BenchOptions latency = BenchOptions.parse(List.of("--scenario", "latency"));
    assertThat(latency.rate()).isEqualTo(100);
    assertThat(latency.seconds()).isEqualTo(30);
    BenchOptions overload = BenchOptions.parse(List.of("--scenario=overload"));
    assertThat(overload.rate()).isEqualTo(3000);
    BenchOptions soak = BenchOptions.parse(List.of("--scenario", "soak"));
    assertThat(soak.seconds()).isEqualTo(600);
    assertThat(soak.fanoutEvery()).isEqualTo(60);
    BenchOptions batch = BenchOptions.parse(List.of("--scenario", "batch", "--jobs", "5000"));
    assertThat(batch.jobs()).isEqualTo(5000);
    assertThat(batch.batchSize()).isEqualTo(1000);
    assertThat(batch.connections()).isEqualTo(4);
    assertThat(BenchOptions.parse(List.of("--scenario", "scale", "--heap", "1g")).heap())
        .isEqualTo("1g");
  }

  @Test
  void mistakesAreUsageErrorsNamingTheOption() {
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--scenario", "fast")))
        .isInstanceOf(LauncherException.class)
        .hasMessageContaining("--scenario fast is not one of fanout, stream, batch");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--heap", "lots")))
        .hasMessageContaining("--heap lots must be a size");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--batch-size", "1001")))
        .hasMessageContaining("--batch-size 1001 must be between 1 and 1000");
    assertThatThrownBy(() -> BenchOptions.parse(List.of("--rat", "5")))
        .hasMessageContaining("unknown option --rat");
    assertThatThrownBy(
            () ->
                BenchOptions.parse(
                        List.of("--scenario", "stream", "--rate", "100000", "--seconds", "86400"))
                    .streamRequests())
        .hasMessageContaining("at most 20M");
  }

  @Test
  void childJvmsGetAGcLogEachTheHeapAndWithProfileAFlightRecording() {
    Path logs = Path.of("/tmp/b/logs");
    assertThat(
            BenchCommand.jvmArgs(
                BenchOptions.parse(List.of("--scenario", "scale", "--profile")), logs))
        .containsExactly(
            "-Xlog:gc,gc+heap+exit:file=/tmp/b/logs/{name}-gc.log",
            "-Xmx256m",
            "-XX:StartFlightRecording=filename=/tmp/b/logs/{name}.jfr,settings=profile,dumponexit=true");
    var spec =
        new LocalStack.Spec(
            "bench", logs, 0, 1, null, "t", List.of("-Xlog:gc:file=/l/{name}-gc.log"));
    assertThat(spec.jvmArgs("worker-1")).contains("-Xlog:gc:file=/l/worker-1-gc.log");
    assertThat(new LocalStack.Spec("demo", logs, 0, 1, null, "t").jvmArgs("coordinator"))
        .containsExactly(LocalStack.childJvmArgs());
  }
}
