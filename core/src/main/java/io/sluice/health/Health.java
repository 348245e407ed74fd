package io.sluice.health;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.json.Json;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Readiness of a process: named components, each UP or DOWN, with the time it entered that state.
 * The process is ready only when every component is UP.
 */
public final class Health {
  private final Clock clock;
  private final Map<String, Component> components = new LinkedHashMap<>();

  public Health(Clock clock) {
    this.clock = clock;
  }

  /** Registers a component whose state is probed on every readiness request. */
  public synchronized void register(String name, BooleanSupplier probe) {
    components.put(name, new Component(probe, clock.instant()));
  }

  /** The current report; probes every component. */
  public synchronized Report check() {
    ObjectNode body = Json.object();
    ObjectNode parts = body.putObject("components");
    boolean ready = true;
    for (var entry : components.entrySet()) {
      Component component = entry.getValue();
      boolean up = component.probe();
      if (up != component.up) {
        component.up = up;
        component.since = clock.instant();
      }
      ready &= up;
      parts
          .putObject(entry.getKey())
          .put("state", up ? "UP" : "DOWN")
          .put("since", component.since.toString());
    }
    body.put("status", ready ? "UP" : "DOWN");
    return new Report(ready, body);
  }

  /** A readiness answer: the JSON body and whether every component is up. */
  public record Report(boolean ready, ObjectNode body) {}

  private static final class Component {
    private final BooleanSupplier probe;
    private boolean up = true;
    private Instant since;

    Component(BooleanSupplier probe, Instant since) {
      this.probe = probe;
      this.since = since;
    }

    boolean probe() {
      try {
        return probe.getAsBoolean();
      } catch (RuntimeException e) {
        return false;
      }
    }
  }
}
