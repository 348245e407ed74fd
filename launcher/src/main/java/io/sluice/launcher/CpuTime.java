package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time, not wall time: what each process of a run used, read from {@code /proc/<pid>/stat}
 * (user + system ticks) before and after the load. On two cores shared with other work, wall-clock
 * throughput says little; CPU milliseconds per job say what a job costs each process, and from them
 * what rate the machine could carry. Redis reports its own ({@code INFO cpu}, server-wide); for
 * PostgreSQL the backends connected to the bench's database are read (those of the stack's pools,
 * which stay open for the run), not the server's background processes. Linux only: elsewhere, or
 * for a server on another host, the fields are absent.
 */
final class CpuTime {
  /** Ticks per second of {@code /proc/<pid>/stat}; 100 on every Linux this runs on. */
  private static final double TICK_MS = 10.0;

  /** One reading: per role, the CPU ms of each process counted under it. */
  record Snapshot(Map<String, Map<Long, Double>> byRole, double redisMs, double machineBusyMs) {}

  private CpuTime() {}

  /**
   * Reads the processes' CPU now.
   *
   * @param processes role (coordinator, worker-1, generator, …) → pid
   * @param db for the pids of the backends connected to the bench's database
   * @param counters for Redis's own figure
   */
  static Snapshot read(Map<String, Long> processes, BenchDb db, Counters counters) {
    Map<String, Map<Long, Double>> byRole = new LinkedHashMap<>();
    processes.forEach((role, pid) -> byRole.put(role, one(pid)));
    Map<Long, Double> backends = new HashMap<>();
    for (Object[] row :
        db.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid()")) {
      long pid = ((Number) row[0]).longValue();
      backends.putAll(one(pid));
    }
    byRole.put("postgres_backends", backends);
    return new Snapshot(byRole, redisMs(counters.info("cpu")), machineBusyMs());
  }

  private static Map<Long, Double> one(long pid) {
    double ms = processMs(pid);
    return ms < 0 ? Map.of() : Map.of(pid, ms);
  }

  /** utime + stime of one process in ms, or -1 when it cannot be read. */
  static double processMs(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
      // state (3), …, utime (14), stime (15).
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_MS;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The machine's busy CPU ms over all cores ({@code /proc/stat}), or -1. */
  static double machineBusyMs() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      // user nice system idle iowait irq softirq steal: busy leaves out idle (4) and iowait (5).
      for (int i = 1; i <= 8 && i < f.length; i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * TICK_MS;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** {@code used_cpu_user + used_cpu_sys} of {@code INFO cpu} in ms, or -1. */
  static double redisMs(String info) {
    double total = 0;
    int found = 0;
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
        total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) * 1000;
        found++;
      }
    }
    return found == 2 ? total : -1;
  }

  /**
   * Writes {@code cpu_ms} (per role, summed over its processes) and {@code cpu_ms_per_job}. A
   * process absent from {@code before} (a backend the pool opened during the run) counts from 0.
   */
  static void delta(Snapshot before, Snapshot after, long jobs, long tasks, ObjectNode out) {
    if (after.byRole().values().stream().allMatch(Map::isEmpty)) {
      return;
    }
    ObjectNode cpu = out.putObject("cpu_ms");
    ObjectNode perJob = out.putObject("cpu_ms_per_job");
    ObjectNode perTask = out.putObject("cpu_ms_per_task");
    double workers = 0;
    double sluice = 0;
    for (var role : after.byRole().entrySet()) {
      Map<Long, Double> was = before.byRole().getOrDefault(role.getKey(), Map.of());
      double ms = 0;
      for (var p : role.getValue().entrySet()) {
        ms += p.getValue() - was.getOrDefault(p.getKey(), 0.0);
      }
      if (role.getKey().startsWith("worker-")) {
        workers += ms;
        continue;
      }
      put(role.getKey(), ms, jobs, tasks, cpu, perJob, perTask);
      if (!role.getKey().equals("generator")) {
        sluice += ms;
      }
    }
    put("workers", workers, jobs, tasks, cpu, perJob, perTask);
    sluice += workers;
    if (after.redisMs() >= 0 && before.redisMs() >= 0) {
      double redis = after.redisMs() - before.redisMs();
      put("redis", redis, jobs, tasks, cpu, perJob, perTask);
      sluice += redis;
    }
    put("stack_total", sluice, jobs, tasks, cpu, perJob, perTask);
    if (after.machineBusyMs() >= 0) {
      cpu.put("machine_busy", Math.round(after.machineBusyMs() - before.machineBusyMs()));
    }
    cpu.put(
        "scope",
        "utime+stime from /proc of the coordinator, workers, load generator and the bench"
            + " database's backends; Redis INFO cpu (server-wide); machine_busy is every process");
  }

  private static void put(
      String role,
      double ms,
      long jobs,
      long tasks,
      ObjectNode cpu,
      ObjectNode perJob,
      ObjectNode perTask) {
    cpu.put(role, Math.round(ms));
    perJob.put(role, jobs <= 0 ? -1 : Math.round(ms * 1000.0 / jobs) / 1000.0);
    perTask.put(role, tasks <= 0 ? -1 : Math.round(ms * 1000.0 / tasks) / 1000.0);
  }

  /** The stack's processes by role, and this JVM as the load generator. */
  static Map<String, Long> processes(LocalStack stack) {
    Map<String, Long> pids = new LinkedHashMap<>();
    pids.put("coordinator", stack.coordinator().pid());
    List<?> workers = stack.workers();
    for (int i = 0; i < workers.size(); i++) {
      pids.put("worker-" + (i + 1), stack.workers().get(i).pid());
    }
    pids.put("generator", ProcessHandle.current().pid());
    return pids;
  }
}
