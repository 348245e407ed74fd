package io.sluice.launcher;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code ./sluice bench} was asked to run: the scenario and its sizes, each defaulting to what
 * that scenario is for (BENCHMARKS.md describes each). Options a scenario does not use are accepted
 * and ignored, so one command line can be re-run with another {@code --scenario}.
 *
 * @param warmup seconds of the same stream offered before the measured one, whose jobs are left out
 *     of every figure (10 for {@code stream} and {@code latency}, else 0)
 * @param heap {@code -Xmx} of the coordinator and workers ({@code 256m}), or null for the JVM's
 *     default
 */
record BenchOptions(
    Scenario scenario,
    int tasks,
    int workers,
    Integer concurrency,
    int stages,
    int rate,
    int seconds,
    int jobs,
    int batchSize,
    int connections,
    int fanoutEvery,
    int drainSeconds,
    int maxInFlight,
    int warmup,
    String heap,
    boolean profile,
    boolean keepLogs) {

  /** The scenarios, by the name {@code --scenario} takes. */
  enum Scenario {
    FANOUT,
    STREAM,
    BATCH,
    LATENCY,
    SCALE,
    SOAK,
    OVERLOAD;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether it offers a stream of one-task jobs at {@code --rate}. */
    boolean streams() {
      return this == STREAM || this == LATENCY || this == OVERLOAD || this == SOAK;
    }
  }

  static final Set<String> VALUED =
      Set.of(
          "scenario",
          "tasks",
          "workers",
          "concurrency",
          "stages",
          "rate",
          "seconds",
          "jobs",
          "batch-size",
          "connections",
          "fanout-every",
          "drain-seconds",
          "max-in-flight",
          "warmup",
          "heap");
  static final Set<String> FLAGS = Set.of("keep-logs", "profile");

  static BenchOptions parse(List<String> arguments) {
    Args args = Args.parse(arguments, VALUED, FLAGS);
    if (!args.positional().isEmpty()) {
      throw LauncherException.usage("bench takes no positional arguments: " + args.positional());
    }
    Scenario scenario = scenario(args.value("scenario"));
    int defaultTasks =
        switch (scenario) {
          case SCALE -> 1_000_000;
          case SOAK -> 10_000;
          default -> 50_000;
        };
    int defaultRate =
        switch (scenario) {
          case LATENCY, SOAK -> 100;
          case OVERLOAD -> 3000;
          default -> 500;
        };
    int defaultSeconds =
        switch (scenario) {
          case SOAK -> 600;
          case OVERLOAD -> 10;
          default -> 30;
        };
    int defaultWarmup = scenario == Scenario.STREAM || scenario == Scenario.LATENCY ? 10 : 0;
    String heap = args.value("heap");
    if (heap == null && scenario == Scenario.SCALE) {
      heap = "256m";
    }
    if (heap != null && !heap.matches("[0-9]+[kKmMgG]?")) {
      throw LauncherException.usage("--heap " + heap + " must be a size like 256m or 2g");
    }
    return new BenchOptions(
        scenario,
        args.intValue("tasks", defaultTasks, 1, 10_000_000),
        args.intValue("workers", 2, 1, 64),
        args.value("concurrency") == null ? null : args.intValue("concurrency", 0, 1, 10_000),
        args.intValue("stages", 1, 1, 64),
        args.intValue("rate", defaultRate, 1, 100_000),
        args.intValue("seconds", defaultSeconds, 1, 7 * 86_400),
        args.intValue("jobs", 100_000, 1, 10_000_000),
        args.intValue("batch-size", 1000, 1, 1000),
        args.intValue("connections", 4, 1, 256),
        args.intValue("fanout-every", 60, 1, 86_400),
        args.intValue("drain-seconds", 120, 1, 86_400),
        args.intValue("max-in-flight", 4096, 1, 16_000),
        args.intValue("warmup", defaultWarmup, 0, 3_600),
        heap,
        args.flag("profile"),
        args.flag("keep-logs"));
  }

  private static Scenario scenario(String name) {
    if (name == null) {
      return Scenario.FANOUT;
    }
    for (Scenario s : Scenario.values()) {
      if (s.label().equals(name)) {
        return s;
      }
    }
    throw LauncherException.usage(
        "--scenario "
            + name
            + " is not one of fanout, stream, batch, latency, scale, soak, overload");
  }

  /** How many requests a stream scenario offers; refused when it would not fit in memory. */
  long streamRequests() {
    long n = OpenLoop.count(rate, Duration.ofSeconds(seconds));
    if (n > 20_000_000) {
      throw LauncherException.usage(
          "--rate " + rate + " for --seconds " + seconds + " is " + n + " requests; at most 20M");
    }
    return n;
  }
}
