package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.SluiceClient;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code ./sluice bench --scenario S}: the end-to-end benchmarks (BENCHMARKS.md gives each one's
 * method). A coordinator and W workers run on the machine's servers ({@code SLUICE_REDIS_URL},
 * {@code SLUICE_DATABASE_URL}, in a fresh database and key prefix) or on embedded ones; the
 * scenario's load runs; then the servers' timestamps and counters are read. Prints one JSON line on
 * standard output; everything else goes to standard error.
 *
 * <p>Every line carries the Redis and PostgreSQL counters ({@link Counters}) from the stack being
 * ready to its processes having stopped, with their ratios per task and per job, and each process's
 * peak heap ({@link GcLog}).
 */
final class BenchCommand {
  private final PrintStream out;
  private final PrintStream err;

  BenchCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(List<String> arguments) throws InterruptedException {
    BenchOptions o = BenchOptions.parse(arguments);
    Path work = LocalStack.tempDir("sluice-bench-");
    Path logs = work.resolve("logs");
    boolean ok = false;
    try {
      Servers servers = servers(work);
      err.println(
          "bench " + o.scenario().label() + ": " + servers.description() + "; logs in " + logs);
      String token = UUID.randomUUID().toString();
      var spec =
          new LocalStack.Spec(
              "bench", logs, 0, o.workers(), o.concurrency(), token, jvmArgs(o, logs));
      try (LocalStack stack = LocalStack.start(spec, servers, err);
          BenchDb db = BenchDb.connect(servers.env())) {
        ObjectNode line = header(o, servers, System.getenv());
        Counters counters = Counters.of(db, servers.env(), err);
        Warmup warm = warmup(o, stack.api(), token, db, line);
        LocalStack.sleep(Duration.ofSeconds(1));
        Counters.Snapshot before = counters.read();
        Map<String, Long> pids = CpuTime.processes(stack);
        CpuTime.Snapshot cpuBefore = CpuTime.read(pids, db, counters);
        ok = scenario(o, stack, token, db, counters, logs, line, warm);
        long jobs =
            (long) db.number("SELECT count(*) FROM jobs WHERE parent_id IS NULL") - warm.jobs();
        long tasks = (long) db.number("SELECT count(*) FROM tasks") - warm.jobs();
        CpuTime.Snapshot cpuAfter = CpuTime.read(pids, db, counters);
        stack.stopProcesses();
        heap(line, logs, o.workers());
        Counters.delta(before, counters.read(), tasks, jobs, !servers.embedded(), line);
        CpuTime.delta(cpuBefore, cpuAfter, jobs, tasks, line);
        line.put("jobs_total", jobs).put("tasks_total", tasks);
        out.println(line);
        if (o.profile()) {
          for (String child : children(o.workers())) {
            err.println("bench: flight recording " + logs.resolve(child + ".jfr"));
          }
        }
      }
      return ok ? 0 : LauncherException.FAILED;
    } finally {
      LocalStack.cleanUp(work, !ok || o.keepLogs() || o.profile(), err);
    }
  }

  private boolean scenario(
      BenchOptions o,
      LocalStack stack,
      String token,
      BenchDb db,
      Counters counters,
      Path logs,
      ObjectNode line,
      Warmup warm)
      throws InterruptedException {
    return switch (o.scenario()) {
      case FANOUT, SCALE -> new FanoutRun(stack.api(), err).run(o, line);
      case STREAM, LATENCY, OVERLOAD -> stream(o, stack.api(), token, db, line, warm);
      case BATCH -> batch(o, stack.api(), db, line);
      case SOAK -> soak(o, stack.api(), token, db, counters, logs, line);
    };
  }

  private Servers servers(Path work) {
    Map<String, String> env = System.getenv();
    return Servers.configured(env)
        ? Servers.external(env, "sluice_bench_", "bench")
        : Servers.embedded(work.resolve("data"), "bench", true);
  }

  /** The child JVMs' extra arguments: a GC log each, the heap, a flight recording. */
  static List<String> jvmArgs(BenchOptions o, Path logs) {
    List<String> args = new ArrayList<>();
    args.add(GcLog.jvmArg(logs));
    if (o.heap() != null) {
      args.add("-Xmx" + o.heap());
    }
    if (o.profile()) {
      args.add(
          "-XX:StartFlightRecording=filename="
              + logs.resolve("{name}.jfr")
              + ",settings=profile,dumponexit=true");
    }
    return args;
  }

  /**
   * Settings the children inherit from the bench's environment that change what a scenario measures
   * (the coordinator's limits shed load; the JVM flags change its speed).
   */
  static final List<String> SETTINGS =
      List.of(
          "SLUICE_API_RATE_LIMIT",
          "SLUICE_API_RATE_BURST",
          "SLUICE_TENANT_MAX_ACTIVE_JOBS",
          "SLUICE_ADMIT_MAX_SUBMITTING",
          "SLUICE_ADMIT_SUBMIT_WAIT",
          "SLUICE_ADMIT_MAX_DISPATCH_BACKLOG",
          "SLUICE_ADMIT_MAX_COLLECT_BACKLOG",
          "SLUICE_ADMIT_MAX_QUEUED_TASKS",
          "SLUICE_WORKER_COMMIT_BACKLOG",
          "SLUICE_QUEUE_SHARDS",
          "SLUICE_CHILD_JAVA_OPTS");

  /** The fields every scenario's line starts with; {@code env} is the bench's environment. */
  static ObjectNode header(BenchOptions o, Servers servers, Map<String, String> env) {
    ObjectNode line =
        CliClient.JSON
            .createObjectNode()
            .put("tool", "sluice")
            .put("scenario", o.scenario().label())
            .put("servers", servers == null || !servers.embedded() ? "external" : "embedded")
            .put("workers", o.workers());
    if (o.concurrency() != null) {
      line.put("concurrency", o.concurrency());
    }
    if (o.heap() != null) {
      line.put("heap", o.heap());
    }
    ObjectNode settings = line.putObject("settings");
    SETTINGS.stream().filter(env::containsKey).forEach(k -> settings.put(k, env.get(k)));
    return line;
  }

  /**
   * What the warm-up left in the database: its top-level jobs, and the database's clock once they
   * had all ended (epoch seconds), from which the measured run's jobs are counted.
   */
  record Warmup(long jobs, double since) {
    static final Warmup NONE = new Warmup(0, 0);
  }

  /**
   * Offers the scenario's stream for {@code --warmup} seconds and waits for its jobs to end, so the
   * measured run finds the JVMs' compilers done with the hot paths; nothing of it is reported but
   * its counts.
   */
  private Warmup warmup(BenchOptions o, SluiceClient api, String token, BenchDb db, ObjectNode line)
      throws InterruptedException {
    // Only the scenarios that read their jobs after it: the soak samples its windows from the
    // start, and the fan-outs and the batch have no stream to warm.
    boolean warmable =
        switch (o.scenario()) {
          case STREAM, LATENCY, OVERLOAD -> true;
          case FANOUT, SCALE, BATCH, SOAK -> false;
        };
    if (o.warmup() == 0 || !warmable) {
      return Warmup.NONE;
    }
    err.printf("bench: warming up for %d s%n", o.warmup());
    StreamLoad.Result r =
        new StreamLoad(api.base(), token, o.rate(), Duration.ofSeconds(o.warmup()), o.maxInFlight())
            .run(err);
    long jobs = (long) db.number("SELECT count(*) FROM jobs WHERE parent_id IS NULL");
    boolean ended =
        ServerTimings.awaitFinished(db, jobs, Duration.ofSeconds(o.drainSeconds()), err);
    line.putObject("warmup")
        .put("seconds", o.warmup())
        .put("accepted", r.accepted())
        .put("refused", r.refused())
        .put("all_ended", ended)
        .put("note", "not in any other figure");
    double since = db.number("SELECT extract(epoch FROM clock_timestamp())");
    return new Warmup(jobs, since);
  }

  private boolean stream(
      BenchOptions o, SluiceClient api, String token, BenchDb db, ObjectNode line, Warmup warm)
      throws InterruptedException {
    o.streamRequests();
    line.put("rate", o.rate()).put("seconds", o.seconds()).put("max_in_flight", o.maxInFlight());
    StreamLoad.Result r =
        new StreamLoad(
                api.base(), token, o.rate(), Duration.ofSeconds(o.seconds()), o.maxInFlight())
            .run(err);
    r.write(line);
    err.printf(
        "bench: %d accepted, %d refused, %d errors; waiting for them to finish%n",
        r.accepted(), r.refused(), r.errors());
    ServerTimings.awaitFinished(
        db, warm.jobs() + r.accepted(), Duration.ofSeconds(o.drainSeconds()), err);
    ServerTimings t = ServerTimings.read(db, warm.since(), 1e11);
    t.write(line, r.accepted());
    return line.path("all_succeeded").asBoolean();
  }

  private boolean batch(BenchOptions o, SluiceClient api, BenchDb db, ObjectNode line)
      throws InterruptedException {
    line.put("jobs", o.jobs()).put("batch_size", o.batchSize()).put("connections", o.connections());
    BatchLoad.Result r = new BatchLoad(api, o.jobs(), o.batchSize(), o.connections()).run(err);
    r.write(line);
    ServerTimings.awaitFinished(db, r.accepted(), Duration.ofSeconds(o.drainSeconds()), err);
    ServerTimings.read(db).write(line, r.accepted());
    return line.path("all_succeeded").asBoolean();
  }

  private boolean soak(
      BenchOptions o,
      SluiceClient api,
      String token,
      BenchDb db,
      Counters counters,
      Path logs,
      ObjectNode line)
      throws InterruptedException {
    o.streamRequests();
    line.put("rate", o.rate())
        .put("seconds", o.seconds())
        .put("max_in_flight", o.maxInFlight())
        .put("fanout_tasks", o.tasks())
        .put("fanout_every_s", o.fanoutEvery());
    Duration length = Duration.ofSeconds(o.seconds());
    StreamLoad load = new StreamLoad(api.base(), token, o.rate(), length, o.maxInFlight());
    StreamLoad.Result[] result = new StreamLoad.Result[1];
    Thread stream =
        Thread.ofPlatform()
            .name("bench-soak-stream")
            .start(
                () -> {
                  try {
                    result[0] = load.run(err);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    SoakSampler sampler = new SoakSampler(db, counters, logs, o.workers());
    long start = System.nanoTime();
    double windowStart = epochNow();
    long nextFanout = 0;
    long fanouts = 0;
    long fanoutErrors = 0;
    long window = Math.min(10, o.seconds());
    for (long t = window; t <= o.seconds(); t += window) {
      while (nextFanout < t) {
        LocalStack.sleep(untilSecond(start, nextFanout));
        try {
          // Keyed, so a shed submit (503) is retried after its Retry-After like any client's.
          api.submit(
              FanoutRun.request(o.tasks(), 1)
                  .put("idempotencyKey", "bench-soak-fanout-" + nextFanout));
          fanouts++;
        } catch (RuntimeException e) {
          fanoutErrors++;
          err.println("bench: fan-out submit failed: " + e.getMessage());
        }
        nextFanout += o.fanoutEvery();
      }
      LocalStack.sleep(untilSecond(start, t));
      double now = epochNow();
      ObjectNode s = sampler.sample(windowStart, now, t);
      err.println("bench: " + s);
      windowStart = now;
    }
    stream.join();
    StreamLoad.Result r = result[0];
    if (r == null) {
      throw new LauncherException(LauncherException.FAILED, "bench: the soak's stream failed");
    }
    r.write(line);
    line.put("fanouts", fanouts).put("fanout_errors", fanoutErrors);
    boolean finished =
        ServerTimings.awaitFinished(
            db, r.accepted() + fanouts, Duration.ofSeconds(o.drainSeconds()), err);
    ServerTimings.read(db).write(line, r.accepted());
    long failedFanouts =
        (long)
            db.number(
                "SELECT count(*) FROM jobs WHERE parent_id IS NULL AND task_count > 1"
                    + " AND status <> 'SUCCEEDED'");
    line.put("fanouts_not_succeeded", failedFanouts);
    SoakSampler.write(sampler.samples(), line);
    return finished
        && failedFanouts == 0
        && fanoutErrors == 0
        && line.path("all_succeeded").asBoolean();
  }

  private static Duration untilSecond(long startNanos, long second) {
    long wait = startNanos + second * 1_000_000_000L - System.nanoTime();
    return Duration.ofNanos(Math.max(0, wait));
  }

  private static double epochNow() {
    return System.currentTimeMillis() / 1000.0;
  }

  private static void heap(ObjectNode line, Path logs, int workers) {
    ObjectNode heap = line.putObject("heap_peak_mb");
    heap.put(
        "coordinator", Percentiles.round(GcLog.read(GcLog.file(logs, "coordinator")).peakMb()));
    double peak = -1;
    for (int i = 1; i <= workers; i++) {
      peak = Math.max(peak, GcLog.read(GcLog.file(logs, "worker-" + i)).peakMb());
    }
    heap.put("worker_max", Percentiles.round(peak));
    heap.put("source", "the processes' GC logs: heap used before each collection or at exit");
  }

  private static List<String> children(int workers) {
    List<String> names = new ArrayList<>(List.of("coordinator"));
    for (int i = 1; i <= workers; i++) {
      names.add("worker-" + i);
    }
    return names;
  }
}
