package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.QueueRates;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queue's rate limit (issue 13 item 5), {@code SLUICE_QUEUE_RATE=metered=50/s}, shared by three
 * real workers through one Lua script: measured on PostgreSQL's start times of a thousand tasks, no
 * 1 s window holds more than 50 starts, the overall rate is close to 50/s, and the workers' other
 * queue is not held up by the limited one.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QueueRateLimitIT {
  private static final Logger log = LoggerFactory.getLogger(QueueRateLimitIT.class);
  private static final int RATE = 50;
  private static final int TASKS = 1000;

  private Stack stack;
  private JobApi api;
  private TestEnvironment env;

  @BeforeAll
  void start(TestEnvironment env) {
    this.env = env;
    stack =
        new Stack(
            env, 0, 1, c -> c.withQueueRates(QueueRates.parse("metered=" + RATE + "/s,slow=6/m")));
    for (int i = 0; i < 3; i++) {
      stack.workers.add(
          Worker.start(
              Stack.workerBuilder(env, "rl" + i, 8).queues(List.of("metered", "default")).build()));
    }
    api = new JobApi(stack);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void fiftyPerSecondAcrossThreeWorkersIsNeverExceededInAnyOneSecondWindowOfAThousandStarts()
      throws Exception {
    // The first claims of a fresh worker JVM run cold (JIT, first statements) and can lag their
    // read from Redis by more than the limiter's margin; a short job warms them first.
    UUID warmUp =
        api.create("{\"type\":\"probe\",\"queue\":\"metered\",\"payload\":{\"tasks\":60}}");
    stack.awaitTerminal(warmUp.toString(), Duration.ofSeconds(15));
    long t0 = System.nanoTime();
    UUID metered =
        api.create(
            "{\"type\":\"probe\",\"queue\":\"metered\",\"payload\":{\"tasks\":" + TASKS + "}}");
    UUID other = api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":300,\"holdMs\":2}}");

    JsonNode otherDone = stack.awaitTerminal(other.toString(), Duration.ofSeconds(15));
    Duration otherTook = Duration.ofNanos(System.nanoTime() - t0);
    JsonNode done = stack.awaitTerminal(metered.toString(), Duration.ofSeconds(60));

    assertThat(otherDone.get("tasksSucceeded").asInt()).isEqualTo(300);
    assertThat(otherTook)
        .as("the other queue is not starved by the limited one (which needs 20 s)")
        .isLessThan(Duration.ofSeconds(10));
    assertThat(done.get("tasksSucceeded").asInt()).isEqualTo(TASKS);
    long[] starts = startTimesMicros(metered);
    assertThat(starts).hasSize(TASKS);
    assertThat(mostInAnyWindow(starts, 1_000_000))
        .as("starts in any 1 s window; the gaps in ms of the fullest: %s", fullestGaps(starts))
        .isBetween(40, RATE);
    double seconds = (starts[TASKS - 1] - starts[0]) / 1e6;
    log.info(
        "{} starts over {} s: at most {} in a 1 s window, {}/s overall",
        TASKS,
        seconds,
        mostInAnyWindow(starts, 1_000_000),
        (TASKS - 1) / seconds);
    assertThat((TASKS - 1) / seconds).as("the overall rate").isBetween(RATE * 0.8, RATE * 1.0);
    assertThat(api.count("SELECT count(DISTINCT worker_id) FROM tasks WHERE job_id = ?", metered))
        .as("the limit is shared by all three")
        .isEqualTo(3);
  }

  @Test
  void theRateLimitIsShownInTheQueueListAndTheMetrics() {
    JsonNode metered = null;
    for (JsonNode q : Json.read(stack.get("/api/v1/queues").body()).get("items")) {
      if (q.get("name").asText().equals("slow")) {
        metered = q;
      }
    }
    assertThat(metered).as("a rate-limited queue is listed even without jobs").isNotNull();
    assertThat(metered.get("rateLimit").get("spec").asText()).isEqualTo("6/m");
    assertThat(metered.get("rateLimit").get("perSecond").asDouble()).isEqualTo(0.1);
    assertThat(stack.get("/metrics", null).body())
        .contains("sluice_queue_rate_limit_per_second{queue=\"metered\"} 50.0")
        .contains("sluice_queue_rate_limit_per_second{queue=\"slow\"} 0.1");
  }

  /** The most starts within any window of {@code windowMicros}, half open. */
  static int mostInAnyWindow(long[] sorted, long windowMicros) {
    int most = 0;
    int from = 0;
    for (int to = 0; to < sorted.length; to++) {
      while (sorted[to] - sorted[from] >= windowMicros) {
        from++;
      }
      most = Math.max(most, to - from + 1);
    }
    return most;
  }

  /** The gaps between the starts of the fullest 1 s window, in ms, for a failure's message. */
  private static String fullestGaps(long[] sorted) {
    int most = 0;
    int first = 0;
    int from = 0;
    for (int to = 0; to < sorted.length; to++) {
      while (sorted[to] - sorted[from] >= 1_000_000) {
        from++;
      }
      if (to - from + 1 > most) {
        most = to - from + 1;
        first = from;
      }
    }
    StringBuilder gaps = new StringBuilder();
    for (int i = first + 1; i < first + most; i++) {
      gaps.append(i == first + 1 ? "" : " ").append((sorted[i] - sorted[i - 1]) / 1000);
    }
    return gaps.toString();
  }

  private long[] startTimesMicros(UUID job) throws Exception {
    List<Long> starts = new ArrayList<>();
    try (Connection c = env.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT (extract(epoch FROM started_at) * 1000000)::bigint FROM tasks"
                    + " WHERE job_id = ? ORDER BY started_at")) {
      ps.setObject(1, job);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          starts.add(rs.getLong(1));
        }
      }
    }
    return starts.stream().mapToLong(Long::longValue).toArray();
  }
}
