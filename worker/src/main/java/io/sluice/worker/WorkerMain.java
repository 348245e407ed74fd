package io.sluice.worker;

import io.sluice.config.ApiTokens;
import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import io.sluice.config.Redact;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ./sluice worker}: a worker configured by environment variables. This class, not the
 * worker, decides how the process ends: a configuration error exits 2, a failed start 1, and both
 * SIGTERM and {@code POST /admin/drain} drain the worker and then exit 0.
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    WorkerConfig config;
    ApiTokens adminTokens;
    try {
      config = WorkerConfig.fromEnv(Env.system());
      // Optional on workers: when set, POST /admin/drain needs one of these tokens.
      String tokens = Env.system().get("SLUICE_API_TOKENS");
      adminTokens = tokens == null ? null : ApiTokens.parse(tokens);
    } catch (ConfigException e) {
      System.err.println("sluice worker: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    AtomicReference<Worker> started = new AtomicReference<>();
    CountDownLatch startEnded = new CountDownLatch(1);
    // SIGTERM is how an orchestrator scales a worker in: drain, then exit 0 (not 143), since
    // nothing went wrong. A SIGTERM during the start waits for it (its loops may already have
    // claimed tasks), so those tasks are handed back too.
    long startWaitMillis = config.drainGrace().toMillis();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    startEnded.await(startWaitMillis, TimeUnit.MILLISECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
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
    Worker worker;
    try {
      worker = Worker.start(config, adminTokens);
      started.set(worker);
    } catch (RuntimeException e) {
      startEnded.countDown();
      // Printed redacted and without a trace: a driver's message may carry the URL it was given.
      System.err.println("sluice worker: not started: " + Redact.messages(e));
      System.exit(1);
      return;
    }
    startEnded.countDown();
    // A drained worker has nothing left to do: exiting runs the shutdown hook, which closes it.
    worker.drainedOnRequest().thenRun(() -> System.exit(0));
  }
}
