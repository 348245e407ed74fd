package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;

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
    Coordinator coordinator = Coordinator.start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(coordinator::close, "sluice-shutdown"));
  }
}
