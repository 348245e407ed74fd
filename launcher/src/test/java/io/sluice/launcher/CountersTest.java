package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CountersTest {
  private static final String COMMANDSTATS =
      "# Commandstats\r\n"
          + "cmdstat_evalsha:calls=120,usec=900,usec_per_call=7.5,rejected_calls=0,failed_calls=0\r\n"
          + "cmdstat_info:calls=7,usec=70,usec_per_call=10.0,rejected_calls=0,failed_calls=0\r\n"
          + "cmdstat_xadd:calls=40,usec=80,usec_per_call=2.0,rejected_calls=0,failed_calls=0\r\n";

  @Test
  void commandstatsAreCallsPerCommand() {
    assertThat(Counters.commandCalls(COMMANDSTATS))
        .containsExactly(Map.entry("evalsha", 120L), Map.entry("info", 7L), Map.entry("xadd", 40L));
    assertThat(Counters.commandCalls("")).isEmpty();
    assertThat(
            Counters.usedMemory("# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n"))
        .isEqualTo(1_048_576);
    assertThat(Counters.usedMemory("")).isEqualTo(-1);
  }

  @Test
  void theDeltaLeavesOutTheBenchsOwnQueriesAndInfoCallsAndGivesEachPerTaskAndPerJob() {
    var before =
        new Counters.Snapshot(
            Map.of("evalsha", 100L, "info", 5L),
            1000,
            Map.of("jobs", new long[] {0, 0, 0}, "tasks", new long[] {0, 0, 0}),
            -1,
            10,
            1);
    var after =
        new Counters.Snapshot(
            Map.of("evalsha", 300L, "info", 9L, "xadd", 50L),
            1250,
            Map.of(
                "jobs", new long[] {10, 40, 0},
                "tasks", new long[] {100, 200, 0},
                "job_events", new long[] {30, 0, 0}),
            -1,
            60,
            4);
    ObjectNode line = CliClient.JSON.createObjectNode();

    Counters.delta(before, after, 100, 10, true, line);

    // info: 4 more calls, 3 of them the bench's own.
    assertThat(line.path("redis_commands").path("total").asLong()).isEqualTo(200 + 1 + 50);
    assertThat(line.path("redis_commands").path("top").toString())
        .isEqualTo("{\"evalsha\":200,\"xadd\":50,\"info\":1}");
    assertThat(line.path("redis_commands").path("scope").asText()).startsWith("shared server");
    assertThat(line.path("redis_commands_per_task").asDouble()).isEqualTo(2.51);
    assertThat(line.path("pg_xacts").asLong()).isEqualTo(250 - 50);
    assertThat(line.path("pg_xacts_per_job").asDouble()).isEqualTo(20.0);
    assertThat(line.path("pg_xacts_per_task").asDouble()).isEqualTo(2.0);
    assertThat(line.path("pg_tuples").path("tasks").toString())
        .isEqualTo("{\"ins\":100,\"upd\":200,\"del\":0}");
    assertThat(line.path("pg_tuples").path("total").asLong()).isEqualTo(380);
    assertThat(line.path("pg_tuples_per_job").asDouble()).isEqualTo(38.0);
    assertThat(line.get("pg_statements").isNull()).isTrue();
  }

  @Test
  void statementsWhenPgStatStatementsIsThereAndNoRedisFiguresWhenRedisCouldNotBeAsked() {
    var before = new Counters.Snapshot(Map.of(), 0, Map.of(), 500, 0, 0);
    var after = new Counters.Snapshot(Map.of(), 0, Map.of(), 1500, 0, 0);
    ObjectNode line = CliClient.JSON.createObjectNode();

    Counters.delta(before, after, 1000, 0, false, line);

    assertThat(line.path("pg_statements").asLong()).isEqualTo(1000);
    assertThat(line.path("pg_statements_per_task").asDouble()).isEqualTo(1.0);
    assertThat(line.path("pg_statements_per_job").asDouble()).isEqualTo(-1.0);
    assertThat(line.get("redis_commands").isNull()).isTrue();
  }
}
