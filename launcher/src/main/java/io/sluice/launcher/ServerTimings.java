package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Latencies from the servers' own timestamps, read from PostgreSQL after (or during) a run, for the
 * one-task jobs of a stream: submit→start is the job's {@code created_at} to its task's {@code
 * started_at}; last task→SUCCEEDED is the latest task {@code finished_at} to the job's {@code
 * finished_at}. Both clocks are the database's and the coordinator's/worker's on one machine, so no
 * client clock enters.
 *
 * @param succeeded jobs SUCCEEDED
 * @param failed jobs FAILED or CANCELLED
 * @param unfinished jobs not finished yet
 * @param firstCreated the earliest {@code created_at}, epoch seconds
 * @param lastFinished the latest {@code finished_at} of a SUCCEEDED job, epoch seconds
 */
record ServerTimings(
    Percentiles submitToStart,
    Percentiles lastTaskToSucceeded,
    long succeeded,
    long failed,
    long unfinished,
    double firstCreated,
    double lastFinished) {

  private static final String QUERY =
      """
      SELECT j.status,
             extract(epoch FROM min(t.started_at) - j.created_at) * 1000,
             extract(epoch FROM j.finished_at - max(t.finished_at)) * 1000,
             extract(epoch FROM j.created_at),
             extract(epoch FROM j.finished_at)
      FROM jobs j LEFT JOIN tasks t ON t.job_id = j.id
      WHERE j.parent_id IS NULL AND j.stage_count = 0 AND j.task_count = 1
        AND j.created_at >= to_timestamp(?) AND j.created_at < to_timestamp(?)
      GROUP BY j.id
      """;

  /** Of every one-task job. */
  static ServerTimings read(BenchDb db) {
    return read(db, 0, 1e11);
  }

  /** Of the one-task jobs created in [{@code from}, {@code to}) (epoch seconds). */
  static ServerTimings read(BenchDb db, double from, double to) {
    List<Object[]> rows = db.query(QUERY, from, to);
    double[] start = new double[rows.size()];
    double[] finish = new double[rows.size()];
    int ns = 0;
    int nf = 0;
    long succeeded = 0;
    long failed = 0;
    long unfinished = 0;
    double first = Double.MAX_VALUE;
    double last = 0;
    for (Object[] r : rows) {
      String status = (String) r[0];
      first = Math.min(first, num(r[3]));
      if (r[1] != null) {
        start[ns++] = num(r[1]);
      }
      switch (status) {
        case "SUCCEEDED" -> {
          succeeded++;
          if (r[2] != null) {
            finish[nf++] = num(r[2]);
          }
          last = Math.max(last, num(r[4]));
        }
        case "FAILED", "CANCELLED" -> failed++;
        default -> unfinished++;
      }
    }
    return new ServerTimings(
        Percentiles.of(Arrays.copyOf(start, ns)),
        Percentiles.of(Arrays.copyOf(finish, nf)),
        succeeded,
        failed,
        unfinished,
        rows.isEmpty() ? 0 : first,
        last);
  }

  /**
   * Waits until {@code expected} top-level jobs have finished, polling the database every half
   * second, for at most {@code bound}; whether they all did.
   */
  static boolean awaitFinished(BenchDb db, long expected, Duration bound, PrintStream err) {
    long deadline = System.nanoTime() + bound.toNanos();
    long done = 0;
    while (System.nanoTime() < deadline) {
      done =
          (long)
              db.number(
                  "SELECT count(*) FROM jobs WHERE parent_id IS NULL"
                      + " AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')");
      if (done >= expected) {
        return true;
      }
      LocalStack.sleep(Duration.ofMillis(500));
    }
    err.printf("bench: %d of %d jobs finished within %d s%n", done, expected, bound.toSeconds());
    return false;
  }

  /** Jobs SUCCEEDED per second from the first submit to the last job's end. */
  double completedPerSecond() {
    double span = lastFinished - firstCreated;
    return span <= 0 ? 0 : succeeded / span;
  }

  /** The JSON line's fields of these timings. */
  void write(ObjectNode line, long accepted) {
    line.put("completed_per_s", Math.round(completedPerSecond() * 10) / 10.0)
        .put("all_succeeded", succeeded == accepted && failed == 0 && unfinished == 0)
        .put("succeeded", succeeded)
        .put("failed", failed)
        .put("unfinished", unfinished);
    line.set("submit_to_start", submitToStart.toJson());
    line.set("last_task_to_succeeded", lastTaskToSucceeded.toJson());
    line.put(
        "server_latency",
        "from PostgreSQL timestamps: jobs.created_at, tasks.started_at,"
            + " tasks.finished_at, jobs.finished_at");
  }

  private static double num(Object o) {
    return ((Number) o).doubleValue();
  }
}
