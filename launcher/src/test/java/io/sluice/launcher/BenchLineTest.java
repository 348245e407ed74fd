package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON line's fields, as each scenario assembles them from its parts. */
class BenchLineTest {

  private static List<String> fields(ObjectNode line) {
    List<String> names = new ArrayList<>();
    line.fieldNames().forEachRemaining(names::add);
    return names;
  }

  @Test
  void aStreamLineHasTheOfferedAcceptedRefusedServerLatenciesAndCounters() {
    BenchOptions o =
        BenchOptions.parse(List.of("--scenario", "stream", "--rate", "200", "--concurrency", "4"));
    ObjectNode line =
        BenchCommand.header(
            o, null, Map.of("SLUICE_API_RATE_LIMIT", "0", "SLUICE_API_TOKENS", "a:secret"));
    int[] status = {201, 201, 503, 429, -1, 0, 500};
    long[] rtt = {2_000_000, 4_000_000, 1, 1, 1, 0, 1};
    StreamLoad.tally(7, 199.5, 1, status, rtt, 2.0).write(line);
    new ServerTimings(
            Percentiles.of(new double[] {5, 6}),
            Percentiles.of(new double[] {1, 2}),
            2,
            0,
            0,
            100.0,
            104.0)
        .write(line, 2);
    var none = new Counters.Snapshot(Map.of("get", 1L), 0, Map.of(), -1, 0, 0);
    Counters.delta(none, none, 2, 2, false, line);

    assertThat(fields(line))
        .containsSubsequence(
            "tool",
            "scenario",
            "servers",
            "workers",
            "concurrency",
            "offered",
            "offered_per_s",
            "accepted",
            "accepted_per_s",
            "refused",
            "refused_503",
            "refused_429",
            "errors",
            "client_overflow",
            "other_statuses",
            "submit_round_trip",
            "completed_per_s",
            "all_succeeded",
            "succeeded",
            "failed",
            "unfinished",
            "submit_to_start",
            "last_task_to_succeeded",
            "redis_commands",
            "redis_commands_per_task",
            "redis_commands_per_job",
            "pg_xacts",
            "pg_xacts_per_task",
            "pg_xacts_per_job",
            "pg_tuples",
            "pg_tuples_per_task",
            "pg_tuples_per_job",
            "pg_statements");
    assertThat(line.path("scenario").asText()).isEqualTo("stream");
    // The limits the coordinator inherits are named; nothing else from the environment is.
    assertThat(line.path("settings").toString()).isEqualTo("{\"SLUICE_API_RATE_LIMIT\":\"0\"}");
    assertThat(line.path("servers").asText()).isEqualTo("external");
    assertThat(line.path("accepted").asLong()).isEqualTo(2);
    assertThat(line.path("accepted_per_s").asDouble()).isEqualTo(1.0);
    assertThat(line.path("refused").asLong()).isEqualTo(2);
    assertThat(line.path("refused_429").asLong()).isEqualTo(1);
    assertThat(line.path("errors").asLong()).isEqualTo(2);
    assertThat(line.path("other_statuses").toString()).isEqualTo("{\"500\":1}");
    assertThat(line.path("submit_round_trip").path("max_ms").asDouble()).isEqualTo(4.0);
    assertThat(line.path("completed_per_s").asDouble()).isEqualTo(0.5);
    assertThat(line.path("all_succeeded").asBoolean()).isTrue();
    assertThat(line.path("submit_to_start").path("p99_ms").asDouble()).isEqualTo(6.0);
  }

  @Test
  void notEveryAcceptedJobSucceededIsFalse() {
    ObjectNode line = CliClient.JSON.createObjectNode();
    var p = Percentiles.of(new double[] {1});
    new ServerTimings(p, p, 9, 0, 1, 0, 1).write(line, 10);
    assertThat(line.path("all_succeeded").asBoolean()).isFalse();
    new ServerTimings(p, p, 10, 0, 0, 0, 1).write(line, 11);
    assertThat(line.path("all_succeeded").asBoolean()).isFalse();
    new ServerTimings(p, p, 10, 1, 0, 0, 1).write(line, 10);
    assertThat(line.path("all_succeeded").asBoolean()).isFalse();
  }

  @Test
  void batchesAreFullThenTheRemainder() {
    assertThat(BatchLoad.batches(2500, 1000)).containsExactly(1000, 1000, 500);
    assertThat(BatchLoad.batches(1000, 1000)).containsExactly(1000);
    assertThat(BatchLoad.batches(1, 1000)).containsExactly(1);
  }

  @Test
  void theHeapComesFromTheGcLog() {
    GcLog.Heap heap =
        GcLog.parse(
            List.of(
                "[0.512s][info][gc] Using Serial",
                "[1.234s][info][gc] GC(0) Pause Young (Allocation Failure) 17M->3M(61M) 4.1ms",
                "[3.001s][info][gc] GC(1) Pause Full (Allocation Failure) 1G->80M(256M) 90ms",
                "[4.500s][info][gc] GC(2) Pause Young (Allocation Failure) 99M->84M(256M) 2ms",
                "[5.000s][info][gc] GC(3) Pause Young (Allocation Failure) 512K->256K(1M) 1ms"));
    assertThat(heap.peakMb()).isEqualTo(1024);
    assertThat(heap.lastLiveMb()).isEqualTo(0.25);
    assertThat(heap.collections()).isEqualTo(4);
    assertThat(GcLog.parse(List.of("no collections yet"))).isEqualTo(new GcLog.Heap(-1, -1, 0));

    // The heap at exit counts when it is more than any collection saw: young + tenured.
    GcLog.Heap atExit =
        GcLog.parse(
            List.of(
                "[1.0s][info][gc] GC(0) Pause Young (Allocation Failure) 100M->10M(365M) 4ms",
                "[9.0s][info][gc,heap,exit] Heap",
                "[9.0s][info][gc,heap,exit]  def new generation   total 110592K, used 102400K [0x…)",
                "[9.0s][info][gc,heap,exit]   eden space 98304K,  97% used [0x…)",
                "[9.0s][info][gc,heap,exit]  tenured generation   total 245760K, used 20480K [0x…)",
                "[9.0s][info][gc,heap,exit]  Metaspace       used 40000K, committed 40500K"));
    assertThat(atExit.peakMb()).isEqualTo(120);
    assertThat(atExit.lastLiveMb()).isEqualTo(10);
  }

  @Test
  void aSoakStaysFlatWhenNothingGrewPastOneAndAHalfTimesAndThroughputHeld() {
    assertThat(SoakSampler.flat("redis_used_memory", 1000, 1500)).isTrue();
    assertThat(SoakSampler.flat("redis_used_memory", 1000, 1501)).isFalse();
    assertThat(SoakSampler.flat("jobs_completed_per_s", 150, 100)).isTrue();
    assertThat(SoakSampler.flat("jobs_completed_per_s", 150, 99)).isFalse();
    assertThat(SoakSampler.flat("jobs_completed_per_s", 150, 1000)).isTrue();

    ObjectNode first = CliClient.JSON.createObjectNode();
    ObjectNode last = CliClient.JSON.createObjectNode();
    for (String f : SoakSampler.FIELDS) {
      first.put(f, 100);
      last.put(f, 120);
    }
    last.put("pg_bytes", 400);
    ObjectNode line = CliClient.JSON.createObjectNode();
    SoakSampler.write(List.of(first, CliClient.JSON.createObjectNode(), last), line);
    assertThat(line.path("samples")).hasSize(3);
    assertThat(line.path("soak_first")).isEqualTo(first);
    assertThat(line.path("soak_last")).isEqualTo(last);
    assertThat(line.path("soak_flat").path("redis_used_memory").asBoolean()).isTrue();
    assertThat(line.path("soak_flat").path("pg_bytes").asBoolean()).isFalse();
    assertThat(line.path("soak_flat").path("all").asBoolean()).isFalse();
  }
}
