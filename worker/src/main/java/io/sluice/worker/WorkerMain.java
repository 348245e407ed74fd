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
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "sluice-shutdown"));
  }
}
