package io.sluice.worker;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;

/** {@code ./sluice worker}: a worker configured by environment variables; SIGTERM drains it. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    WorkerConfig config;
    io.sluice.config.ApiTokens adminTokens;
    try {
      config = WorkerConfig.fromEnv(Env.system());
      // Optional on workers: when set, POST /admin/drain needs one of these tokens.
      String tokens = Env.system().get("SLUICE_API_TOKENS");
      adminTokens = tokens == null ? null : io.sluice.config.ApiTokens.parse(tokens);
    } catch (ConfigException e) {
      System.err.println("sluice worker: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    var started = new java.util.concurrent.atomic.AtomicReference<Worker>();
    // SIGTERM is how an orchestrator scales a worker in: drain, then exit 0 (not 143), since
    // nothing went wrong.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  Worker worker = started.get();
                  if (worker != null) {
                    try {
                      worker.close();
                    } finally {
                      Runtime.getRuntime().halt(0);
                    }
                  }
                },
                "sluice-shutdown"));
    try {
      started.set(Worker.start(config, adminTokens));
    } catch (RuntimeException e) {
      // Printed redacted and without a trace: a driver's message may carry the URL it was given.
      System.err.println("sluice worker: not started: " + io.sluice.config.Redact.messages(e));
      System.exit(1);
    }
  }
}
