package io.sluice.launcher;

import io.sluice.embedded.FileTrees;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code ./sluice dev}: the demo's stack (embedded servers, a coordinator, workers) in the
 * foreground until Ctrl-C, for trying the API by hand. Prints the API address and a freshly
 * generated token.
 */
final class DevCommand {
  private static final Set<String> VALUED = Set.of("port", "workers", "concurrency");

  private final PrintStream out;

  DevCommand(PrintStream out) {
    this.out = out;
  }

  int run(List<String> arguments) throws InterruptedException {
    Args args = Args.parse(arguments, VALUED, Set.of());
    int port = args.intValue("port", 8080, 1, 65535);
    int workers = args.intValue("workers", 2, 0, 64);
    Integer concurrency =
        args.value("concurrency") == null ? null : args.intValue("concurrency", 0, 1, 10_000);
    requireFree(port);
    Path work = LocalStack.tempDir("sluice-dev-");
    Path logs = work.resolve("logs");
    String token = UUID.randomUUID().toString().replace("-", "");
    out.println("Starting a Sluice dev stack (logs in " + logs + ")...");
    Servers servers = Servers.embedded(work.resolve("data"), "sluice");
    LocalStack stack =
        LocalStack.start(
            new LocalStack.Spec("dev", logs, port, workers, concurrency, token), servers, out);
    AtomicBoolean stopping = new AtomicBoolean();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  out.println(System.lineSeparator() + "Stopping the dev stack...");
                  stack.close();
                  FileTrees.deleteTree(work.resolve("data"));
                  out.println("Stopped. Logs are in " + logs);
                },
                "sluice-dev-stopper"));
    String api = stack.api().base().toString();
    out.println();
    out.println("Sluice is running.");
    out.println("  API        " + api + "/api/v1/jobs");
    out.println("  token      " + token + "   (tenant \"dev\", an admin token)");
    out.println("  dashboard  " + api + "/#token=" + token);
    out.println("  Redis      " + servers.env().get("SLUICE_REDIS_URL"));
    out.println("  PostgreSQL " + servers.env().get("SLUICE_DATABASE_URL"));
    out.println("Try it from another terminal:");
    out.println("  export SLUICE_API_URL=" + api + " SLUICE_API_TOKEN=" + token);
    out.println("  echo '{\"tasks\":1000}' | ./sluice submit --type noop --payload - --wait");
    out.println("Press Ctrl-C to stop.");
    while (stack.coordinator().isAlive() || stopping.get() || stoppingSoon(stopping)) {
      // When Ctrl-C stops the stack, the hook above reports it; this thread just waits to be ended.
      Thread.sleep(Duration.ofSeconds(1));
    }
    out.println("The coordinator exited; last lines of " + stack.coordinator().logFile() + ":");
    out.println(stack.coordinator().logTail(20));
    return LauncherException.FAILED;
  }

  /**
   * A dead coordinator may just be the first sign of Ctrl-C: give the shutdown a moment to say so.
   */
  private static boolean stoppingSoon(AtomicBoolean stopping) throws InterruptedException {
    Thread.sleep(Duration.ofSeconds(2));
    return stopping.get();
  }

  private static void requireFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
    } catch (IOException e) {
      throw LauncherException.usage("port " + port + " is in use; choose another with --port");
    }
  }
}
