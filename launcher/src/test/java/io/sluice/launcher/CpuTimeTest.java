package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuTimeTest {
  @Test
  void readsThisProcessesCpuAndItGrowsWithWork() {
    long pid = ProcessHandle.current().pid();
    double before = CpuTime.processMs(pid);
    long sum = 0;
    long end = System.nanoTime() + 300_000_000L;
    while (System.nanoTime() < end) {
      sum += Long.numberOfTrailingZeros(System.nanoTime());
    }
    assertThat(sum).isPositive();
    assertThat(before).isGreaterThan(0);
    // 300 ms of spinning is at least 100 ms of CPU however busy the machine is.
    assertThat(CpuTime.processMs(pid) - before).isGreaterThanOrEqualTo(100);
    assertThat(CpuTime.processMs(Long.MAX_VALUE)).isEqualTo(-1);
  }

  @Test
  void readsRedisInfoCpu() {
    String info =
        "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_user:2.250000\r\nused_cpu_sys_children:9\r\n";
    assertThat(CpuTime.redisMs(info)).isEqualTo(3750.0);
    assertThat(CpuTime.redisMs("")).isEqualTo(-1);
  }

  @Test
  void deltaSumsWorkersCountsNewBackendsFromZeroAndLeavesTheGeneratorOutOfTheStack() {
    var before =
        new CpuTime.Snapshot(
            Map.of(
                "coordinator", Map.of(1L, 100.0),
                "worker-1", Map.of(2L, 50.0),
                "worker-2", Map.of(3L, 50.0),
                "generator", Map.of(4L, 10.0),
                "postgres_backends", Map.of(5L, 20.0)),
            1000,
            0);
    var after =
        new CpuTime.Snapshot(
            Map.of(
                "coordinator", Map.of(1L, 300.0),
                "worker-1", Map.of(2L, 150.0),
                "worker-2", Map.of(3L, 250.0),
                "generator", Map.of(4L, 510.0),
                "postgres_backends", Map.of(5L, 120.0, 6L, 80.0)),
            1400,
            5000);
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    CpuTime.delta(before, after, 100, 200, out);
    assertThat(out.path("cpu_ms").path("coordinator").asLong()).isEqualTo(200);
    assertThat(out.path("cpu_ms").path("workers").asLong()).isEqualTo(300);
    assertThat(out.path("cpu_ms").path("postgres_backends").asLong()).isEqualTo(180);
    assertThat(out.path("cpu_ms").path("redis").asLong()).isEqualTo(400);
    assertThat(out.path("cpu_ms").path("generator").asLong()).isEqualTo(500);
    assertThat(out.path("cpu_ms").path("stack_total").asLong()).isEqualTo(1080);
    assertThat(out.path("cpu_ms_per_job").path("stack_total").asDouble()).isEqualTo(10.8);
    assertThat(out.path("cpu_ms_per_task").path("coordinator").asDouble()).isEqualTo(1.0);
    assertThat(out.path("cpu_ms").path("machine_busy").asLong()).isEqualTo(5000);
  }
}
