package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConcurrencyLimits;
import io.sluice.config.RedisConfig;
import io.sluice.health.LoopSupervisor;
import io.sluice.json.Json;
import io.sluice.redis.RedisKeys;
import io.sluice.store.ClaimedTask;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.redis.JedisConcurrencySlots;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G5 for {@code maxConcurrency}: a slot is held for as long as its handler runs, even after the
 * handler was told to stop (its job cancelled, its lease lost), so what runs never exceeds the
 * bound.
 */
@ExtendWith(SluiceTestExtension.class)
class ConcurrencyGateIT {
  private static final String QUEUE = "limited";
  private static final Duration LEASE = Duration.ofSeconds(1);

  @Test
  void aStoppedHandlerThatKeepsRunningKeepsItsSlot(TestEnvironment env) throws Exception {
    WorkerConfig base = WorkerHarness.config(env, QUEUE, 2, 10, LEASE);
    WorkerConfig config =
        base.toBuilder()
            .concurrencyLimits(new ConcurrencyLimits(Map.of(QUEUE, 1), Map.of()))
            .build();
    RedisConfig redis = RedisConfig.parse(env.redisUrl(), env.redisPrefix());
    try (JedisConcurrencySlots slots = new JedisConcurrencySlots(redis, 4);
        LoopSupervisor loops = new LoopSupervisor(Clock.systemUTC(), new SimpleMeterRegistry());
        ConcurrencyGate gate =
            new ConcurrencyGate(
                config, new JedisConcurrencySlots(redis, 4), new SimpleMeterRegistry(), loops)) {
      String counter = new RedisKeys(env.redisPrefix()).queueSlots(QUEUE);
      RunningTask first = task();
      ConcurrencyGate.Permit permit = gate.acquire(first);
      assertThat(permit).isNotNull();

      first.stop("its job was cancelled");
      RunningTask second = task();
      CompletableFuture<ConcurrencyGate.Permit> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return gate.acquire(second);
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      // Several leases long: an unrenewed slot would have expired and let the second one in.
      await()
          .during(Duration.ofMillis(LEASE.toMillis() * 3))
          .atMost(Duration.ofMillis(LEASE.toMillis() * 5))
          .until(() -> slots.holders(counter) == 1 && !waiting.isDone());

      permit.close();
      ConcurrencyGate.Permit next = waiting.get(10, TimeUnit.SECONDS);
      assertThat(next).as("the slot frees when the handler returns").isNotNull();
      next.close();
    }
  }

  private static RunningTask task() {
    return new RunningTask(
        new ClaimedTask(UUID.randomUUID(), 0, 1, 1, Json.object(), "noop", 3), QUEUE, "0-1");
  }
}
