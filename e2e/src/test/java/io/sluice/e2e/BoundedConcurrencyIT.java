package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ApiTokens;
import io.sluice.config.ConcurrencyLimits;
import io.sluice.coordinator.ApiLimits;
import io.sluice.json.Json;
import io.sluice.redis.RedisKeys;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import io.sluice.worker.redis.JedisConcurrencySlots;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bounded counters never exceed their bound (G5): the Lua check-and-increment of concurrency slots
 * under hundreds of concurrent acquirers, per-queue and per-type limits across three workers, slots
 * that come back when their holder stops renewing, and the per-token quota of active jobs.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BoundedConcurrencyIT {
  private static final String QUOTA_TOKEN = "quota-tenant-token-7";
  private static final Duration LEASE = Duration.ofSeconds(10);

  private Stack stack;
  private JobApi api;
  private JedisConcurrencySlots slots;
  private RedisKeys keys;

  @BeforeAll
  void start(TestEnvironment env) {
    stack =
        new Stack(
            env,
            0,
            1,
            c ->
                c.withTokens(
                        ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-q:" + QUOTA_TOKEN))
                    .withLimits(new ApiLimits(100_000, 100_000, 0, Map.of("tenant-q", 7))));
    ConcurrencyLimits limits =
        new ConcurrencyLimits(Map.of("limited", 3), Map.of("probe-limited", 2));
    for (int i = 0; i < 3; i++) {
      stack.workers.add(
          Worker.start(
              Stack.workerBuilder(env, "bw" + i, 6)
                  .queues(List.of("default", "limited"))
                  .lease(LEASE)
                  .concurrencyLimits(limits)
                  .build()));
    }
    api = new JobApi(stack);
    slots = new JedisConcurrencySlots(Stack.redis(env), 64);
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  void stop() {
    slots.close();
    stack.close();
  }

  @Test
  void hundredsOfConcurrentAcquirersNeverHoldMoreThanTheBoundAndAllGetTheirTurn() throws Exception {
    String queue = keys.queueSlots("race-q");
    String type = keys.typeSlots("race-t");
    for (int round = 0; round < 5; round++) {
      AtomicInteger inQueue = new AtomicInteger();
      AtomicInteger inType = new AtomicInteger();
      AtomicInteger maxQueue = new AtomicInteger();
      AtomicInteger maxType = new AtomicInteger();
      AtomicInteger done = new AtomicInteger();
      int acquirers = 300;
      CyclicBarrier barrier = new CyclicBarrier(acquirers);
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < acquirers; i++) {
          boolean typed = i % 2 == 0;
          String holder = "round" + round + ":" + i;
          futures.add(
              pool.submit(
                  () -> {
                    List<String> counters = typed ? List.of(queue, type) : List.of(queue);
                    List<Integer> bounds = typed ? List.of(7, 3) : List.of(7);
                    barrier.await();
                    while (slots.tryAcquire(counters, bounds, holder, LEASE) != 0) {
                      Thread.sleep(ThreadLocalRandom.current().nextInt(1, 4));
                    }
                    maxQueue.accumulateAndGet(inQueue.incrementAndGet(), Math::max);
                    if (typed) {
                      maxType.accumulateAndGet(inType.incrementAndGet(), Math::max);
                    }
                    Thread.sleep(ThreadLocalRandom.current().nextInt(1, 4));
                    if (typed) {
                      inType.decrementAndGet();
                    }
                    inQueue.decrementAndGet();
                    slots.release(counters, holder);
                    done.incrementAndGet();
                    return null;
                  }));
        }
        for (Future<?> f : futures) {
          f.get();
        }
      }
      assertThat(done.get()).as("every acquirer got its turn").isEqualTo(acquirers);
      assertThat(maxQueue.get()).as("round %d queue bound", round).isBetween(2, 7);
      assertThat(maxType.get()).as("round %d type bound", round).isBetween(1, 3);
      assertThat(slots.holders(queue)).as("no slot leaked").isZero();
      assertThat(slots.holders(type)).isZero();
    }
  }

  @Test
  void aSlotWhoseHolderStopsRenewingComesBackWhenItsLeaseRunsOut() {
    String key = keys.queueSlots("lapse");
    Duration ttl = Duration.ofMillis(600);
    assertThat(slots.tryAcquire(List.of(key), List.of(1), "dead-worker-task", ttl)).isZero();
    for (int i = 0; i < 5; i++) {
      assertThat(slots.tryAcquire(List.of(key), List.of(1), "other-task", ttl))
          .as("full while the holder renews")
          .isEqualTo(1);
      assertThat(slots.renew(List.of(key), "dead-worker-task", ttl)).isEqualTo(1);
      sleep(200);
    }

    await("the slot comes back once its holder stops renewing")
        .atMost(Duration.ofSeconds(3))
        .until(() -> slots.tryAcquire(List.of(key), List.of(1), "other-task", ttl) == 0);

    assertThat(slots.renew(List.of(key), "dead-worker-task", ttl))
        .as("an expired holder cannot renew its way back past the bound")
        .isZero();
    assertThat(slots.release(List.of(key), "dead-worker-task")).isZero();
    assertThat(slots.holders(key)).isEqualTo(1);
    assertThat(slots.release(List.of(key), "other-task")).isEqualTo(1);
    assertThat(slots.release(List.of(key), "other-task"))
        .as("releasing twice frees nothing more")
        .isZero();
  }

  @Test
  void queueAndJobTypeLimitsHoldAcrossThreeWorkersAndEveryTaskFinishes() {
    UUID limitedQueue =
        api.create(
            "{\"type\":\"probe\",\"queue\":\"limited\",\"payload\":{\"tasks\":30,\"holdMs\":40}}");
    UUID limitedType =
        api.create("{\"type\":\"probe-limited\",\"payload\":{\"tasks\":20,\"holdMs\":40}}");

    for (UUID id : List.of(limitedQueue, limitedType)) {
      var job = stack.awaitTerminal(id.toString(), Duration.ofSeconds(30));
      assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
      assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(job.get("taskCount").asInt());
    }
    assertThat(ProbeJobType.maxRunning(limitedQueue))
        .as("queue 'limited' maxConcurrency 3")
        .isBetween(2, 3);
    assertThat(ProbeJobType.maxRunning("probe-limited"))
        .as("type maxConcurrency 2")
        .isBetween(1, 2);
    assertThat(slots.holders(keys.queueSlots("limited"))).as("every slot released").isZero();
    assertThat(slots.holders(keys.typeSlots("probe-limited"))).isZero();

    UUID unlimited = api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":40,\"holdMs\":40}}");
    stack.awaitTerminal(unlimited.toString(), Duration.ofSeconds(30));
    assertThat(ProbeJobType.maxRunning(unlimited))
        .as("other queues are not limited")
        .isGreaterThan(3);
  }

  @Test
  void aTokensQuotaOfActiveJobsHoldsUnderHundredsOfConcurrentSubmissions() throws Exception {
    String delayed =
        "{\"type\":\"probe\",\"runAt\":\""
            + Instant.now().plusSeconds(3600)
            + "\",\"payload\":{\"tasks\":1}}";
    for (int round = 0; round < 3; round++) {
      List<HttpResponse<String>> answers =
          JobApiSemanticsIT.concurrently(200, () -> api.submit(QUOTA_TOKEN, delayed));

      List<HttpResponse<String>> accepted =
          answers.stream().filter(a -> a.statusCode() == 201).toList();
      assertThat(accepted).as("round %d: exactly the quota is admitted", round).hasSize(7);
      assertThat(answers)
          .filteredOn(a -> a.statusCode() == 429)
          .hasSize(193)
          .allSatisfy(a -> assertThat(a.headers().firstValue("Retry-After")).isPresent());
      assertThat(activeJobs("tenant-q")).isEqualTo(7);
      assertThat(api.count("SELECT active_jobs FROM tenant_active_jobs WHERE tenant = 'tenant-q'"))
          .isEqualTo(7);
      assertThat(api.submit(Stack.TOKEN, delayed).statusCode())
          .as("other tokens are not held back")
          .isEqualTo(201);

      for (HttpResponse<String> a : accepted) {
        UUID id = UUID.fromString(Json.read(a.body()).get("id").asText());
        assertThat(api.cancel(id, QUOTA_TOKEN).statusCode()).isEqualTo(200);
      }
      assertThat(api.count("SELECT active_jobs FROM tenant_active_jobs WHERE tenant = 'tenant-q'"))
          .as("a finished job gives its place back")
          .isZero();
    }
  }

  private long activeJobs(String tenant) {
    return api.count(
        "SELECT count(*) FROM jobs WHERE tenant = ? AND status IN ('QUEUED', 'RUNNING', 'COLLECTING')",
        tenant);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
