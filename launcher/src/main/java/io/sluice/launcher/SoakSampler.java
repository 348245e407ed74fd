package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The soak's samples, one per window: throughput completed, p99 submit→start of the stream's jobs
 * created in the window, the coordinator's and workers' live heap after their latest collection
 * (their GC logs), Redis {@code used_memory} and the PostgreSQL tables' total sizes. The verdict
 * compares the last window with the first: each stayed flat when it grew by at most 1.5× (for
 * throughput: fell to no less than the first over 1.5).
 */
final class SoakSampler {
  static final double FLAT = 1.5;
  static final String[] FIELDS = {
    "jobs_completed_per_s",
    "tasks_completed_per_s",
    "p99_submit_to_start_ms",
    "coordinator_heap_mb",
    "worker_heap_mb",
    "redis_used_memory",
    "pg_bytes"
  };

  private final BenchDb db;
  private final Counters counters;
  private final Path logs;
  private final int workers;
  private final List<ObjectNode> samples = new ArrayList<>();

  SoakSampler(BenchDb db, Counters counters, Path logs, int workers) {
    this.db = db;
    this.counters = counters;
    this.logs = logs;
    this.workers = workers;
  }

  /** Takes the sample of the window [{@code from}, {@code to}) (epoch seconds). */
  ObjectNode sample(double from, double to, double elapsed) {
    double span = to - from;
    double jobs =
        db.number(
            "SELECT count(*) FROM jobs WHERE parent_id IS NULL AND status = 'SUCCEEDED'"
                + " AND finished_at >= to_timestamp(?) AND finished_at < to_timestamp(?)",
            from,
            to);
    double tasks =
        db.number(
            "SELECT count(*) FROM tasks WHERE status = 'SUCCEEDED'"
                + " AND finished_at >= to_timestamp(?) AND finished_at < to_timestamp(?)",
            from,
            to);
    ServerTimings window = ServerTimings.read(db, from, to);
    double workerHeap = 0;
    for (int i = 1; i <= workers; i++) {
      workerHeap = Math.max(workerHeap, GcLog.read(GcLog.file(logs, "worker-" + i)).lastLiveMb());
    }
    double pgBytes =
        db.number(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['jobs', 'tasks',"
                + " 'job_events']::regclass[]) c");
    ObjectNode s =
        CliClient.JSON
            .createObjectNode()
            .put("t_s", Math.round(elapsed))
            .put("jobs_completed_per_s", Math.round(jobs / span * 10) / 10.0)
            .put("tasks_completed_per_s", Math.round(tasks / span * 10) / 10.0)
            .put("p99_submit_to_start_ms", Percentiles.round(window.submitToStart().p99()))
            .put(
                "coordinator_heap_mb",
                Percentiles.round(GcLog.read(GcLog.file(logs, "coordinator")).lastLiveMb()))
            .put("worker_heap_mb", Percentiles.round(workerHeap))
            .put("redis_used_memory", Counters.usedMemory(counters.info("memory")))
            .put("pg_bytes", (long) pgBytes);
    samples.add(s);
    return s;
  }

  List<ObjectNode> samples() {
    return samples;
  }

  /**
   * {@code soak_first}, {@code soak_last}, {@code soak_flat} (per field and {@code all}) and the
   * samples, into the JSON line.
   */
  static void write(List<ObjectNode> samples, ObjectNode line) {
    ArrayNode all = line.putArray("samples");
    samples.forEach(all::add);
    if (samples.isEmpty()) {
      return;
    }
    ObjectNode first = samples.get(0);
    ObjectNode last = samples.get(samples.size() - 1);
    line.set("soak_first", first);
    line.set("soak_last", last);
    ObjectNode flat = line.putObject("soak_flat");
    boolean every = true;
    for (String f : FIELDS) {
      boolean ok = flat(f, first.path(f).asDouble(), last.path(f).asDouble());
      flat.put(f, ok);
      every &= ok;
    }
    flat.put("all", every);
  }

  /** Whether {@code field} stayed flat from {@code first} to {@code last}. */
  static boolean flat(String field, double first, double last) {
    if (field.endsWith("_completed_per_s")) {
      return last * FLAT >= first;
    }
    return first <= 0 ? last <= 0 : last <= FLAT * first;
  }
}
