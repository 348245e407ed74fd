package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.SluiceClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The fan-out scenario (and {@code scale}, the same at a million tasks in small heaps): one {@code
 * noop} job of N tasks; the time from submit to SUCCEEDED gives tasks per second. Task latency is
 * read from the job's progress, polled every 20 ms: the p-th percentile is the first poll at which
 * p % of the tasks had finished, counted from submit (a 20 ms resolution).
 */
final class FanoutRun {
  private static final Duration POLL = Duration.ofMillis(20);
  private static final Duration TIMEOUT = Duration.ofMinutes(30);
  private static final Duration STALL_LIMIT = Duration.ofMinutes(2);

  private final SluiceClient api;
  private final PrintStream err;

  FanoutRun(SluiceClient api, PrintStream err) {
    this.api = api;
    this.err = err;
  }

  boolean run(BenchOptions o, ObjectNode line) {
    int n = o.tasks();
    ObjectNode request = request(n, o.stages());
    long t0 = System.nanoTime();
    JobView job = new JobView(CliClient.call(api, () -> api.submit(request)).json());
    long submitted = System.nanoTime();
    List<long[]> samples = new ArrayList<>(); // {nanos since submit, finished tasks}
    job =
        new JobWatcher(api, new ProgressBar(err), POLL, TIMEOUT, STALL_LIMIT)
            .watch(job, j -> samples.add(new long[] {System.nanoTime() - t0, j.finished()}));
    long totalNanos = System.nanoTime() - t0;
    if (!job.succeededJob()) {
      err.println("bench: job " + job.id() + " ended " + job.status() + ": " + job.error());
      return false;
    }
    double totalMs = totalNanos / 1e6;
    line.put("n", n);
    if (o.stages() > 1) {
      line.put("stages", o.stages());
    }
    line.put("submit_ms", Math.round((submitted - t0) / 1e6))
        .put("total_ms", Math.round(totalMs))
        .put("tasks_per_s", Math.round(n / (totalMs / 1000)))
        .put("p50_ms", percentile(samples, n, 0.50))
        .put("p95_ms", percentile(samples, n, 0.95))
        .put("p99_ms", percentile(samples, n, 0.99))
        .put("latency", "job progress polled every " + POLL.toMillis() + " ms");
    return true;
  }

  /**
   * One {@code noop} job of n tasks; or, with several stages, a pipeline that is a chain of that
   * many {@code noop} stages sharing the n tasks (the first takes the remainder), each starting
   * when the one before it succeeded.
   */
  static ObjectNode request(int n, int stages) {
    ObjectNode request = CliClient.JSON.createObjectNode();
    if (stages == 1) {
      request.put("type", "noop").putObject("payload").put("tasks", n);
      return request;
    }
    var list = request.putArray("stages");
    for (int i = 0; i < stages; i++) {
      ObjectNode stage = list.addObject().put("name", "s" + i).put("type", "noop");
      stage.putObject("payload").put("tasks", n / stages + (i == 0 ? n % stages : 0));
      if (i > 0) {
        stage.putArray("dependsOn").add("s" + (i - 1));
      }
    }
    return request;
  }

  /** Milliseconds from submit to the first poll that saw {@code q * n} tasks finished. */
  static long percentile(List<long[]> samples, int n, double q) {
    long needed = (long) Math.ceil(q * n);
    for (long[] s : samples) {
      if (s[1] >= needed) {
        return Math.round(s[0] / 1e6);
      }
    }
    return samples.isEmpty() ? -1 : Math.round(samples.get(samples.size() - 1)[0] / 1e6);
  }
}
