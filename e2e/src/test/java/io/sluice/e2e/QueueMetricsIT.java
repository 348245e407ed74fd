package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The autoscaling gauges follow the backlog: it grows with no worker and drains when one starts.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueueMetricsIT {
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 0, 4);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void queueDepthAndAgeShowTheBacklogAndDrainWhenAWorkerStarts() {
    stack.submit("{\"type\":\"noop\",\"payload\":{\"tasks\":40}}");

    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> gauge("sluice_queue_depth") == 40);
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> gauge("sluice_queue_oldest_age_seconds") > 0);
    assertThat(stack.get("/metrics").body()).contains("sluice_dispatch_lag_seconds");

    stack.workers.add(Worker.start(Stack.workerConfig(stack.env, "late", 4)));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gauge("sluice_queue_depth") == 0);
  }

  private double gauge(String name) {
    return stack
        .get("/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith(name + "{") && l.contains("queue=\"default\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
