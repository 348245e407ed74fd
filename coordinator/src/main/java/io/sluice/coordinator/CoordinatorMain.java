package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import io.sluice.config.Redact;
import io.sluice.store.SchemaNotCurrentException;

/** {@code ./sluice coordinator}: a coordinator configured by environment variables. */
public final class CoordinatorMain {
  private CoordinatorMain() {}

  public static void main(String[] args) {
    CoordinatorConfig config;
    try {
      config = CoordinatorConfig.fromEnv(Env.system());
    } catch (ConfigException e) {
      System.err.println("sluice coordinator: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    }
    Coordinator coordinator;
    try {
      coordinator = Coordinator.start(config);
    } catch (SchemaNotCurrentException e) {
      System.err.println("sluice coordinator: not started: " + Redact.messages(e));
      System.exit(2);
      return;
    } catch (RuntimeException e) {
      // Printed redacted and without a trace: a driver's message may carry the URL it was given.
      System.err.println("sluice coordinator: not started: " + Redact.messages(e));
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(coordinator::close, "sluice-shutdown"));
  }
}
