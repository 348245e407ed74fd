package io.sluice.launcher;

import io.sluice.config.Redact;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code ./sluice} command line. Run {@code ./sluice help} for the subcommands; the README
 * ("Command line") describes each. {@code coordinator} and {@code worker} hand over to the
 * production main classes unchanged; the other subcommands are the launcher's own.
 */
public final class Main {
  private static final String HELP =
      """
      Sluice: a Redis-coordinated distributed job pipeline.

      Usage: ./sluice <command> [options]

        demo [--workers N] [--lines-per-task L] [--keep-logs]
            Embedded Redis and PostgreSQL, a coordinator and N (2) worker JVMs; runs a pipeline (two
            wordcount stages over the halves of a text in parallel, joined by merge), shows each
            stage's progress, checks the result against a local count, stops everything.
        dev [--port P] [--workers N] [--concurrency C]
            The same stack in the foreground until Ctrl-C; prints the API address and a token.
        coordinator | worker
            The production processes, configured by environment: SLUICE_REDIS_URL,
            SLUICE_REDIS_PREFIX, SLUICE_DATABASE_URL, SLUICE_DATABASE_USER, SLUICE_DATABASE_PASSWORD,
            SLUICE_API_TOKENS, SLUICE_HTTP_PORT, SLUICE_WORKER_CONCURRENCY, SLUICE_WORKER_ID,
            SLUICE_LEASE_DURATION.
        migrate
            Applies the database migrations and exits, as SLUICE_MIGRATE_DATABASE_URL/_USER/_PASSWORD
            (each defaulting to its SLUICE_DATABASE_* counterpart); then coordinators can run with
            SLUICE_MIGRATE=false as a role without DDL rights.
        submit --type T --payload FILE|- [--queue Q] [--concurrency-key K [--concurrency-limit N]]
               [--wait] [--json]
            Submits a job (payload JSON from a file or standard input); --wait shows progress on
            standard error until the job ends, and its exit code says how it ended. With a
            concurrency key, at most N (default SLUICE_KEY_MAX_CONCURRENCY) tasks of that key's
            jobs run at once in the queue.
        status ID [--watch] [--json]
            Prints a job; --watch follows it to the end like submit --wait.
        cancel ID [--json]
            Cancels a job.
        jobs [--status S] [--limit N] [--cursor C] [--json]
            Lists jobs, newest first: N (50) of them, following the API's pages; --cursor C
            continues after an earlier listing (its nextCursor).
        workers [--limit N] [--json]
            Lists workers and coordinators with status, heartbeat age, running tasks and port.
        schedules [list [--limit N] | get NAME | pause NAME | resume NAME | delete NAME] [--json]
            Lists the token's schedules (an admin token's: every tenant's), prints one, pauses or
            resumes one (at the version it has now), or deletes one (its jobs stay).
        drain WORKER_URL | drain WORKER_ID [--host H] [--json]
            Asks a worker to drain (POST /admin/drain on its port): it stops fetching, lets running
            tasks finish, hands the rest back and exits. By id, the port comes from the workers
            listing and the host is H (default: SLUICE_API_URL's host).
        queues [--json] | queues pause QUEUE | queues resume QUEUE
            Lists queues (paused or running, since when and by whom, rate limit, waiting and
            read tasks); pause and resume (an admin token) stop and restart the start of new
            tasks of a queue: running tasks finish, and a paused queue still accepts jobs.
        bench [--scenario S] [--tasks N] [--stages K] [--workers W] [--concurrency C]
              [--rate R] [--seconds T] [--jobs J] [--batch-size B] [--connections K]
              [--fanout-every F] [--heap SIZE] [--drain-seconds D] [--max-in-flight M]
              [--warmup S] [--profile] [--keep-logs]
            The end-to-end benchmarks; each prints one JSON line on standard output. S is
            fanout (default: one noop job of N (50000) tasks, or with --stages K a chain of K
            stages sharing them), stream (one-task jobs offered open loop at R (500)/s for T (30)
            s), batch (J (100000) one-task jobs by POST /api/v1/jobs/batch in batches of B
            (1000) over K (4) connections), latency (a stream at R (100)/s), scale (fanout of
            N (1000000) tasks at --heap (256m)), soak (T (600) s of a stream at R (100)/s plus a
            fan-out of N (10000) tasks every F (60) s, sampled every 10 s) or overload (a stream
            at R (3000)/s). stream and latency (and overload, if asked) first offer the same
            stream for --warmup (10) s, left out of every figure. Every line carries Redis and
            PostgreSQL counters and their ratios per task and per job. --profile records each
            JVM with JFR into the kept logs. Uses SLUICE_REDIS_URL/SLUICE_DATABASE_URL when both
            are set (in a fresh database and key prefix, removed afterwards), else embedded
            servers.
        help
            This text.

      The client commands talk to SLUICE_API_URL (default http://127.0.0.1:8080) with the bearer
      token SLUICE_API_TOKEN. With --json they print one JSON document on standard output and
      nothing else there; messages and progress go to standard error.
      Exit codes: 0 success (with --wait/--watch: the job SUCCEEDED); 1 failure (the server
      rejected the request, or the job FAILED); 2 bad usage; 3 the coordinator (for drain, the
      worker) cannot be reached; 4 the job was CANCELLED.
      """;

  private Main() {}

  /**
   * Runs a subcommand and exits with its code.
   *
   * @param args the subcommand and its arguments
   */
  public static void main(String[] args) {
    String command = args.length == 0 ? "help" : args[0];
    List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
    if (command.equals("migrate")) {
      delegate("io.sluice.coordinator.MigrateMain", rest);
      return;
    }
    if (command.equals("coordinator") || command.equals("worker")) {
      // The production processes keep their own logging configuration and exit behaviour.
      delegate(
          command.equals("coordinator") ? LocalStack.COORDINATOR_MAIN : LocalStack.WORKER_MAIN,
          rest);
      return;
    }
    quietLogging();
    System.exit(run(command, rest, System.out, System.err));
  }

  static int run(String command, List<String> rest, PrintStream out, PrintStream err) {
    try {
      return switch (command) {
        case "demo" -> new DemoCommand(out).run(rest);
        case "dev" -> new DevCommand(out).run(rest);
        case "bench" -> new BenchCommand(out, err).run(rest);
        case "submit", "status", "cancel", "jobs", "workers", "drain", "queues", "schedules" ->
            client(out, err).run(command, rest);
        case "help", "--help", "-h" -> {
          out.print(HELP);
          yield 0;
        }
        default -> throw LauncherException.usage("unknown command '" + command + "'");
      };
    } catch (LauncherException e) {
      err.println("sluice " + command + ": " + e.getMessage());
      return e.exitCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return LauncherException.FAILED;
    } catch (RuntimeException e) {
      // The trace of a failed start can carry a URL with its password: print it redacted.
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      err.println("sluice " + command + " failed: " + Redact.text(e.toString()));
      err.print(Redact.text(trace.toString()));
      return LauncherException.FAILED;
    }
  }

  private static ClientCommands client(PrintStream out, PrintStream err) {
    return new ClientCommands(CliClient.fromEnv(), out, err, System.in);
  }

  private static void delegate(String mainClass, List<String> args) {
    try {
      Class.forName(mainClass)
          .getMethod("main", String[].class)
          .invoke(null, (Object) args.toArray(String[]::new));
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(mainClass + " is not on the classpath", e);
    }
  }

  /**
   * The embedded servers log their start and stop at INFO; the launcher's own output says what
   * matters, so its process logs warnings only (children keep their own configuration).
   */
  private static void quietLogging() {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "sluice-launcher-logback.xml");
    }
  }
}
