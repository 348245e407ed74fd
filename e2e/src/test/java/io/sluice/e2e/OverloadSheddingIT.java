package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G8 with a stream of one-task jobs: offered three times what this machine sustains, open loop, for
 * 30 s, the coordinator sheds the excess with 503 and {@code Retry-After}, every job it accepted
 * succeeds, the backlogs it admits on stay within their configured bounds, and once the burst ends
 * probe jobs run about as fast as before it. No timed speed assert: the rate is measured first, and
 * the latency bound is what the configured backlogs take to drain at that rate, with slack.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverloadSheddingIT {
  private static final int MAX_SUBMITTING = 4;
  private static final int MAX_DISPATCH_BACKLOG = 100;
  private static final int MAX_COLLECT_BACKLOG = 100;
  private static final int MAX_QUEUED_TASKS = 200;
  private static final int WORKERS = 2;
  private static final int CONCURRENCY = 16;
  private static final String JOB = "{\"type\":\"noop\",\"payload\":{\"tasks\":1}}";
  private static final Set<String> REASONS =
      Set.of("submissions_in_progress", "dispatch_backlog", "collect_backlog", "queue_backlog");
  private static final List<String> GAUGES =
      List.of(
          "sluice_api_submissions_in_progress",
          "sluice_dispatch_backlog",
          "sluice_collect_backlog");

  private OverloadStack stack;

  @BeforeAll
  void start(TestEnvironment env) throws Exception {
    Map<String, String> settings = new HashMap<>();
    settings.put("SLUICE_DATABASE_POOL_SIZE", "8");
    settings.put("SLUICE_SWEEP_INTERVAL", "500ms");
    settings.put("SLUICE_DISPATCH_GRACE", "5s");
    settings.put("SLUICE_LEADER_LEASE", "2s");
    // Only the backlog bounds shed here: the per-token rate limit would hide what they do.
    settings.put("SLUICE_API_RATE_LIMIT", "0");
    settings.put("SLUICE_ADMIT_MAX_SUBMITTING", String.valueOf(MAX_SUBMITTING));
    settings.put("SLUICE_ADMIT_SUBMIT_WAIT", "1s");
    settings.put("SLUICE_ADMIT_MAX_DISPATCH_BACKLOG", String.valueOf(MAX_DISPATCH_BACKLOG));
    settings.put("SLUICE_ADMIT_MAX_COLLECT_BACKLOG", String.valueOf(MAX_COLLECT_BACKLOG));
    settings.put("SLUICE_ADMIT_MAX_QUEUED_TASKS", String.valueOf(MAX_QUEUED_TASKS));
    stack = new OverloadStack(env, settings, WORKERS, CONCURRENCY);
  }

  @AfterAll
  void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void threeTimesTheSustainableRateIsShedAndEveryAcceptedJobSucceedsWithBoundedLatency()
      throws Exception {
    stack.awaitWorkersUp(Duration.ofSeconds(120));
    awaitProbes(1, Duration.ofSeconds(60), new long[] {60_000, 60_000});
    double sustainable = measureSustainableRate();
    long[] normal = normalLatency();
    System.out.printf(
        "overload: probe %s ms, sustainable %.0f jobs/s, offering %.0f jobs/s%n",
        Arrays.toString(normal), sustainable, 3 * sustainable);

    double shedBefore = stack.metric("sluice_api_shed_total");
    Map<String, Double> peaks = new ConcurrentHashMap<>();
    List<OpenLoopLoad.Answer> answers = offer(3 * sustainable, Duration.ofSeconds(30), peaks);
    List<OpenLoopLoad.Answer> accepted = answers.stream().filter(a -> a.status() == 201).toList();
    List<OpenLoopLoad.Answer> shed =
        answers.stream().filter(a -> a.status() == 503 || a.status() == 429).toList();
    System.out.printf(
        "overload: %d sent, %d accepted, %d shed %s, peaks %s%n",
        answers.size(),
        accepted.size(),
        shed.size(),
        shed.stream()
            .collect(
                Collectors.groupingBy(
                    a -> Json.read(a.body()).path("reason").asText(), Collectors.counting())),
        peaks);

    assertEveryAcceptedJobSucceededInBoundedTime(accepted, sustainable);
    assertTheExcessWasShedWithAReason(answers, shed);
    assertThat(stack.metric("sluice_api_shed_total") - shedBefore)
        .as("every shed submission is counted")
        .isEqualTo(shed.size());
    assertBacklogsStayedWithinTheirBounds(peaks);

    // Back to normal within seconds: a few probes in a row run about as fast as before the burst.
    long[] after =
        awaitProbes(
            3, Duration.ofSeconds(20), new long[] {2_000 + 5 * normal[0], 2_000 + 5 * normal[1]});
    System.out.printf("overload: probe after the burst %s ms%n", Arrays.toString(after));
  }

  /**
   * Every 201 job SUCCEEDED, and none waited longer than the bounded backlogs take to drain at the
   * measured rate (twice over, plus 10 s): an accepted job waits in those backlogs and nowhere
   * else.
   */
  private void assertEveryAcceptedJobSucceededInBoundedTime(
      List<OpenLoopLoad.Answer> accepted, double rate) throws Exception {
    double backlogSeconds =
        (MAX_SUBMITTING + MAX_DISPATCH_BACKLOG + MAX_COLLECT_BACKLOG + MAX_QUEUED_TASKS) / rate;
    long boundMs = Math.round(2_000 * backlogSeconds) + 10_000;
    long burstEnd = System.currentTimeMillis();
    try {
      Awaitility.await()
          .atMost(Duration.ofMillis(boundMs))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> stack.unfinished() == 0);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          stack.unfinished()
              + " accepted jobs still unfinished "
              + boundMs
              + " ms after the burst ("
              + stack.count("SELECT count(*) FROM jobs WHERE status = 'QUEUED'")
              + " not yet dispatched)",
          e);
    }
    System.out.printf(
        "overload: all finished %d ms after the burst%n", System.currentTimeMillis() - burstEnd);
    List<UUID> ids = accepted.stream().map(a -> OverloadStack.id(a.body())).toList();
    assertThat(
            stack.count(
                "SELECT count(*) FROM jobs WHERE status = 'SUCCEEDED' AND id = ANY(?)", ids))
        .as("every accepted job SUCCEEDED: none lost")
        .isEqualTo(ids.size());
    Map<UUID, Long> due = new HashMap<>();
    accepted.forEach(a -> due.put(OverloadStack.id(a.body()), a.dueMillis()));
    List<Long> latencies = stack.finishLatencies(due);
    long p99 = latencies.get((int) Math.floor(0.99 * (latencies.size() - 1)));
    System.out.printf(
        "overload: accepted submit->SUCCEEDED p50 %d ms, p99 %d ms (bound %d)%n",
        latencies.get(latencies.size() / 2), p99, boundMs);
    assertThat(p99).as("p99 submit -> SUCCEEDED of accepted jobs").isLessThanOrEqualTo(boundMs);
  }

  private void assertTheExcessWasShedWithAReason(
      List<OpenLoopLoad.Answer> answers, List<OpenLoopLoad.Answer> shed) {
    assertThat(answers)
        .as("every request is answered 201 or shed with 429/503, none times out or fails")
        .allMatch(a -> a.status() == 201 || a.status() == 503 || a.status() == 429);
    assertThat(shed).as("some of three times the sustainable rate is shed").isNotEmpty();
    assertThat(shed)
        .as("a shed request says why and when to come back")
        .allSatisfy(
            a -> {
              assertThat(a.retryAfter()).isNotNull();
              assertThat(Long.parseLong(a.retryAfter())).isPositive();
              JsonNode body = Json.read(a.body());
              assertThat(body.path("error").asText()).isNotEmpty();
              assertThat(body.path("reason").asText()).isIn(REASONS);
            });
  }

  /**
   * The two counted bounds hold exactly; the sampled collect backlog may pass its bound by at most
   * what was admitted upstream of it (submitting, undispatched, queued, running).
   */
  private void assertBacklogsStayedWithinTheirBounds(Map<String, Double> peaks) {
    assertThat(peaks.getOrDefault(GAUGES.get(0), -1.0)).isBetween(0.0, (double) MAX_SUBMITTING);
    assertThat(peaks.getOrDefault(GAUGES.get(1), -1.0))
        .isBetween(0.0, (double) MAX_DISPATCH_BACKLOG);
    int upstream = MAX_SUBMITTING + MAX_DISPATCH_BACKLOG + MAX_QUEUED_TASKS + WORKERS * CONCURRENCY;
    assertThat(peaks.getOrDefault(GAUGES.get(2), -1.0))
        .isBetween(0.0, (double) (MAX_COLLECT_BACKLOG + upstream));
  }

  /** Offers the load open loop while sampling the backlog gauges' peaks every 200 ms. */
  private List<OpenLoopLoad.Answer> offer(
      double rate, Duration duration, Map<String, Double> peaks) {
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(
        () -> {
          try {
            for (String name : GAUGES) {
              double v = stack.metric(name);
              if (v >= 0) {
                peaks.merge(name, v, Math::max);
              }
            }
          } catch (RuntimeException e) {
            // A sample lost under load is no peak; the next follows in 200 ms.
          }
        },
        0,
        200,
        TimeUnit.MILLISECONDS);
    try {
      return new OpenLoopLoad(stack.api() + "/api/v1/jobs", Stack.TOKEN, Duration.ofSeconds(15))
          .run(JOB, rate, duration);
    } finally {
      sampler.shutdownNow();
    }
  }

  /**
   * The rate this machine's pipeline runs one-task jobs at now: eight closed-loop submitters for 5
   * s (which also warms the JVMs up), then the rate at which the backlog they left drains, or the
   * rate of the whole phase if that is higher.
   */
  private double measureSustainableRate() throws Exception {
    long startMillis = System.currentTimeMillis();
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    var pool = Executors.newVirtualThreadPerTaskExecutor();
    for (int i = 0; i < 8; i++) {
      pool.submit(
          () -> {
            while (System.nanoTime() < end) {
              stack.post(JOB);
            }
            return null;
          });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    long stopMillis = System.currentTimeMillis();
    long left = stack.unfinished();
    long total = stack.count("SELECT count(*) FROM jobs");
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> stack.unfinished() == 0);
    long lastMillis =
        stack.count("SELECT (extract(epoch FROM max(finished_at)) * 1000)::bigint FROM jobs");
    double drain = left * 1000.0 / Math.max(1, lastMillis - stopMillis);
    double whole = total * 1000.0 / Math.max(1, lastMillis - startMillis);
    System.out.printf(
        "overload: %d jobs in 5 s, %d left at the end, drained at %.0f/s, %.0f/s overall%n",
        total, left, drain, whole);
    // A drain of a few jobs measures their latency, not a rate: with the submitters kept up with
    // (a CI run left 21 jobs, "drained at 808/s" in 26 ms against 214/s overall, and three times
    // that overran the test JVM's file descriptors), only a real backlog's drain counts.
    return left >= 200 ? Math.max(drain, whole) : whole;
  }

  /** The median latencies of three probes on the idle stack: submit to task start, to SUCCEEDED. */
  private long[] normalLatency() throws Exception {
    List<long[]> probes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long[] p = stack.probe(JOB);
      assertThat(p).as("an idle coordinator accepts a probe").isNotNull();
      probes.add(p);
    }
    return new long[] {
      probes.stream().mapToLong(p -> p[0]).sorted().toArray()[1],
      probes.stream().mapToLong(p -> p[1]).sorted().toArray()[1]
    };
  }

  /**
   * Submits probe jobs one after another until {@code inARow} consecutive ones start and succeed
   * within {@code bound} ms of their submit; returns the last one's latencies.
   */
  private long[] awaitProbes(int inARow, Duration atMost, long[] bound) {
    long[][] last = new long[1][];
    int[] good = new int[1];
    Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              last[0] = stack.probe(JOB);
              boolean ok = last[0] != null && last[0][0] <= bound[0] && last[0][1] <= bound[1];
              good[0] = ok ? good[0] + 1 : 0;
              return good[0] >= inARow;
            });
    return last[0];
  }
}
