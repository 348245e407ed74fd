package io.sluice.health;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.client.SluiceClient;

/**
 * Counts what a {@link SluiceClient} retried: {@code sluice_client_conflicts_total} for every
 * version conflict the server answered, {@code sluice_client_retries_total{reason}} for every
 * retry.
 */
public final class ClientMetrics implements SluiceClient.Listener {
  private final MeterRegistry registry;

  public ClientMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void conflict() {
    registry.counter("sluice_client_conflicts_total").increment();
  }

  @Override
  public void retried(String reason) {
    registry.counter("sluice_client_retries_total", "reason", reason).increment();
  }
}
