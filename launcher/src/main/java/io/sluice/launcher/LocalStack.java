package io.sluice.launcher;

import io.sluice.client.SluiceClient;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.FileTrees;
import io.sluice.embedded.FreePort;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A coordinator and N workers, each in its own JVM, against a set of {@link Servers}: what {@code
 * demo}, {@code dev} and {@code bench} run. {@link #close()} stops the workers (letting them
 * drain), then the coordinator, then the servers; a JVM shutdown (Ctrl-C) does the same.
 */
final class LocalStack implements AutoCloseable {
  static final String COORDINATOR_MAIN = "io.sluice.coordinator.CoordinatorMain";
  static final String WORKER_MAIN = "io.sluice.worker.WorkerMain";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  /**
   * @param name names the tenant, worker ids and log files, e.g. {@code demo}
   * @param logDir where each child's output goes
   * @param coordinatorPort the API port; 0 picks a free one
   * @param workers how many worker JVMs
   * @param concurrency {@code SLUICE_WORKER_CONCURRENCY}, or null for the worker's default
   * @param token the API token the coordinator accepts
   * @param extraJvmArgs more arguments for every child JVM after the defaults (e.g. {@code
   *     -Xmx256m}); {@code {name}} in one is replaced by the child's name ({@code coordinator},
   *     {@code worker-1}, …), so each can write its own file
   */
  record Spec(
      String name,
      Path logDir,
      int coordinatorPort,
      int workers,
      Integer concurrency,
      String token,
      List<String> extraJvmArgs) {
    Spec(
        String name,
        Path logDir,
        int coordinatorPort,
        int workers,
        Integer concurrency,
        String token) {
      this(name, logDir, coordinatorPort, workers, concurrency, token, List.of());
    }

    /** The child JVM arguments of the child called {@code child}. */
    String[] jvmArgs(String child) {
      List<String> args = new ArrayList<>(List.of(childJvmArgs()));
      extraJvmArgs.forEach(a -> args.add(a.replace("{name}", child)));
      return args.toArray(String[]::new);
    }
  }

  private final Servers servers;
  private final List<ChildJvm> workers = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::close, "sluice-stack-stopper");
  private ChildJvm coordinator;
  private SluiceClient api;
  private boolean closed;

  private LocalStack(Servers servers) {
    this.servers = servers;
  }

  /**
   * Starts the coordinator, waits until it is ready, then starts the workers and waits for them.
   */
  static LocalStack start(Spec spec, Servers servers, PrintStream out) {
    LocalStack stack = new LocalStack(servers);
    Runtime.getRuntime().addShutdownHook(stack.shutdownHook);
    try {
      stack.startCoordinator(spec, out);
      stack.startWorkers(spec, out);
      return stack;
    } catch (RuntimeException e) {
      stack.close();
      throw e;
    }
  }

  SluiceClient api() {
    return api;
  }

  ChildJvm coordinator() {
    return coordinator;
  }

  List<ChildJvm> workers() {
    return List.copyOf(workers);
  }

  Servers servers() {
    return servers;
  }

  private void startCoordinator(Spec spec, PrintStream out) {
    int port = spec.coordinatorPort() == 0 ? FreePort.find() : spec.coordinatorPort();
    coordinator =
        ChildJvm.builder(COORDINATOR_MAIN)
            .name("coordinator")
            .jvmArgs(spec.jvmArgs("coordinator"))
            .env(servers.env())
            .env("SLUICE_HTTP_PORT", Integer.toString(port))
            .env("SLUICE_API_TOKENS", spec.name() + ":" + spec.token())
            // The local stack's one token is an admin token too, so its dashboard shows everything.
            .env("SLUICE_ADMIN_TOKENS", spec.name() + ":" + spec.token())
            .logFile(spec.logDir().resolve("coordinator.log"))
            .start();
    api = CliClient.create("http://127.0.0.1:" + port, spec.token());
    awaitReady(coordinator, api);
    out.printf("  coordinator  %s  (pid %d)%n", api.base(), coordinator.pid());
  }

  private void startWorkers(Spec spec, PrintStream out) {
    List<SluiceClient> health = new ArrayList<>();
    for (int i = 1; i <= spec.workers(); i++) {
      int port = FreePort.find();
      var builder =
          ChildJvm.builder(WORKER_MAIN)
              .name("worker-" + i)
              .jvmArgs(spec.jvmArgs("worker-" + i))
              .env(servers.env())
              .env("SLUICE_HTTP_PORT", Integer.toString(port))
              .env("SLUICE_WORKER_ID", spec.name() + "-worker-" + i)
              .logFile(spec.logDir().resolve("worker-" + i + ".log"));
      if (spec.concurrency() != null) {
        builder.env("SLUICE_WORKER_CONCURRENCY", spec.concurrency().toString());
      }
      workers.add(builder.start());
      health.add(CliClient.create("http://127.0.0.1:" + port, null));
    }
    for (int i = 0; i < workers.size(); i++) {
      awaitReady(workers.get(i), health.get(i));
      out.printf(
          "  worker-%d     %s  (pid %d)%n", i + 1, health.get(i).base(), workers.get(i).pid());
    }
  }

  private static void awaitReady(ChildJvm child, SluiceClient client) {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (!client.ready()) {
      if (!child.isAlive()) {
        throw new LauncherException(
            LauncherException.FAILED,
            child.name()
                + " exited with "
                + child.waitFor(Duration.ZERO).orElse(-1)
                + " before it was ready; last lines of "
                + child.logFile()
                + ":\n"
                + child.logTail(30));
      }
      if (System.nanoTime() > deadline) {
        throw new LauncherException(
            LauncherException.FAILED,
            child.name()
                + " was not ready within "
                + READY_TIMEOUT.toSeconds()
                + " s at "
                + client.base()
                + "/health/ready; last lines of "
                + child.logFile()
                + ":\n"
                + child.logTail(30));
      }
      sleep(Duration.ofMillis(200));
    }
  }

  /** Stops everything, workers first so they can hand back their tasks. Safe to call twice. */
  @Override
  public synchronized void close() {
    // Synchronized as a whole: a second caller (the shutdown hook) waits until everything is
    // stopped.
    if (closed) {
      return;
    }
    closed = true;
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down; the hook may be running this very method.
      }
    }
    try {
      stopProcesses();
    } finally {
      servers.close();
    }
  }

  /**
   * Stops the workers (in parallel, letting them drain) and then the coordinator, leaving the
   * servers running: the bench reads their counters once every connection has gone. Safe to call
   * twice.
   */
  synchronized void stopProcesses() {
    List<Thread> stoppers = new ArrayList<>();
    for (ChildJvm worker : workers) {
      stoppers.add(Thread.ofPlatform().start(worker::stop));
    }
    for (Thread t : stoppers) {
      join(t);
    }
    if (coordinator != null) {
      coordinator.stop();
    }
  }

  private static void join(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Children run on this JVM's java. Netty (Lettuce, Redisson) uses {@code sun.misc.Unsafe}, which
   * JDK 24+ warns about at every start; the flag that allows it does not exist before 24.
   */
  static String[] childJvmArgs() {
    // Local stacks share a small machine and live for seconds to minutes: the serial collector and
    // C1-only compilation spend far less CPU on warming up than the server defaults (measured in
    // BENCHMARKS.md). SLUICE_CHILD_JAVA_OPTS replaces them.
    List<String> args =
        new ArrayList<>(
            List.of("-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 24) {
      args.add("--sun-misc-unsafe-memory-access=allow");
    }
    String tuning = System.getenv("SLUICE_CHILD_JAVA_OPTS");
    if (tuning == null) {
      tuning = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1";
    }
    if (!tuning.isBlank()) {
      args.addAll(List.of(tuning.trim().split("\\s+")));
    }
    return args.toArray(String[]::new);
  }

  /** A new temporary folder for a stack's data and logs. */
  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a temporary folder", e);
    }
  }

  /**
   * Deletes a stack's temporary folder once it has stopped: all of it, or all but {@code logs/}
   * when the logs are worth keeping (a failure, or asked for) and there are any.
   */
  static void cleanUp(Path work, boolean keepLogs, PrintStream out) {
    Path logs = work.resolve("logs");
    if (keepLogs && Files.isDirectory(logs)) {
      FileTrees.deleteTree(work.resolve("data"));
      out.println("Logs kept in " + logs);
    } else {
      FileTrees.deleteTree(work);
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LauncherException(LauncherException.FAILED, "interrupted", e);
    }
  }
}
