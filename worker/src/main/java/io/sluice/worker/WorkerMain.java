package io.sluice.worker;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;

/** {@code ./sluice worker}: a worker configured by environment variables; SIGTERM drains it. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    WorkerConfig config;
    try {
      config = WorkerConfig.fromEnv(Env.system());
    } catch (ConfigException e) {
      System.err.println("sluice worker: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Worker worker = Worker.start(config);
    // SIGTERM is how an orchestrator scales a worker in: drain, then exit 0 (not 143), since
    // nothing went wrong.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  worker.close();
                  Runtime.getRuntime().halt(0);
                },
                "sluice-shutdown"));
  }
}
