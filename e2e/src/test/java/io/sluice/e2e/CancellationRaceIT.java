package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.json.Json;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.RedisKeys;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/** Cancellation over HTTP: what it stops, what it refuses, and its race with the last task. */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CancellationRaceIT {
  private static final String OTHER_TOKEN = "other-tenant-token-42";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private Stack stack;
  private JobApi api;

  @BeforeAll
  void start(TestEnvironment env) {
    stack =
        new Stack(
            env,
            2,
            16,
            c ->
                c.withTokens(
                    ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-b:" + OTHER_TOKEN)));
    api = new JobApi(stack);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void aCancelledJobsRunningHandlersAreToldToStopAndItsQueuedTasksNeverStart() {
    UUID id = api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":80,\"hold\":true}}");
    await().atMost(WAIT).until(() -> ProbeJobType.started(id).size() == 32);

    HttpResponse<String> cancelled = api.cancel(id);

    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    JsonNode body = Json.read(cancelled.body());
    assertThat(body.get("status").asText()).isEqualTo("CANCELLED");
    assertThat(body.get("tasksCancelled").asInt()).isEqualTo(80);
    await("every running handler sees isCancelled()")
        .atMost(WAIT)
        .until(() -> ProbeJobType.sawCancel(id).size() == 32);
    await("the queue's entries are all acknowledged without running")
        .atMost(WAIT)
        .until(() -> readyEntries() == 0);
    assertThat(ProbeJobType.started(id)).as("no queued task started").hasSize(32);
    assertThat(
            api.count("SELECT count(*) FROM tasks WHERE job_id = ? AND status = 'CANCELLED'", id))
        .isEqualTo(80);
    assertThat(api.count("SELECT count(*) FROM tasks WHERE job_id = ? AND attempt = 0", id))
        .isEqualTo(48);
    await("the collector never runs")
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(3))
        .until(() -> !ProbeJobType.COLLECTED.contains(id));
    JsonNode job = api.job(id);
    assertThat(job.get("status").asText()).isEqualTo("CANCELLED");
    assertThat(job.get("result").isNull()).isTrue();
    assertThat(terminalEvents(id)).isEqualTo(1);
    try (JedisPooled redis = api.redis()) {
      RedisKeys keys = new RedisKeys(stack.env.redisPrefix());
      assertThat(redis.exists(keys.remaining(id), keys.counted(id))).isZero();
    }
  }

  @Test
  void onlyAQueuedOrRunningJobCanBeCancelledAndOnlyByItsOwnToken() {
    UUID done = api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":2}}");
    assertThat(stack.awaitTerminal(done.toString(), WAIT).get("status").asText())
        .isEqualTo("SUCCEEDED");
    UUID live = api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":1,\"hold\":true}}");

    HttpResponse<String> finished = api.cancel(done);
    assertThat(finished.statusCode()).as(finished.body()).isEqualTo(409);
    assertThat(Json.read(finished.body()).get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(api.cancel(live, null).statusCode()).isEqualTo(401);
    assertThat(api.cancel(live, OTHER_TOKEN).statusCode())
        .as("another tenant's job")
        .isEqualTo(404);
    assertThat(api.cancel(UUID.randomUUID()).statusCode()).isEqualTo(404);
    assertThat(stack.post("/api/v1/jobs/nope/cancel", null, Stack.TOKEN, "").statusCode())
        .isEqualTo(400);
    assertThat(api.cancel(live).statusCode()).isEqualTo(200);
    HttpResponse<String> again = api.cancel(live);
    assertThat(again.statusCode()).as("cancelling twice is harmless").isEqualTo(200);
    assertThat(Json.read(again.body()).get("tasksCancelled").asInt()).isZero();
    assertThat(terminalEvents(live)).isEqualTo(1);
    assertThat(api.job(done).get("status").asText()).isEqualTo("SUCCEEDED");
  }

  @Test
  void theLastTaskFinishingWhileTheJobIsCancelledEndsInExactlyOneOfSucceededOrCancelled()
      throws Exception {
    Map<String, Integer> outcomes = new ConcurrentHashMap<>();
    for (int round = 0; round < 4; round++) {
      List<UUID> jobs = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        jobs.add(api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":1,\"hold\":true}}"));
      }
      await()
          .atMost(WAIT)
          .until(() -> jobs.stream().allMatch(j -> ProbeJobType.started(j).size() == 1));
      Map<UUID, Integer> cancelStatus = race(jobs);
      for (UUID id : jobs) {
        String status = stack.awaitTerminal(id.toString(), WAIT).get("status").asText();
        outcomes.merge(status, 1, Integer::sum);
        assertOneOutcome(id, status, cancelStatus.get(id));
      }
    }
    System.out.println("Race outcomes over 64 jobs: " + outcomes);
    assertThat(outcomes.keySet())
        .as("both orders happened")
        .containsExactlyInAnyOrder("SUCCEEDED", "CANCELLED");
    assertThat(outcomes.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(64);
  }

  /** For each job, two threads meet at a barrier: one lets its last task finish, one cancels. */
  private Map<UUID, Integer> race(List<UUID> jobs) throws Exception {
    Map<UUID, Integer> cancelStatus = new ConcurrentHashMap<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (UUID id : jobs) {
        CyclicBarrier barrier = new CyclicBarrier(2);
        futures.add(
            pool.submit(
                () -> {
                  barrier.await();
                  jitter(5);
                  ProbeJobType.release(id);
                  return null;
                }));
        futures.add(
            pool.submit(
                () -> {
                  barrier.await();
                  jitter(150);
                  cancelStatus.put(id, api.cancel(id).statusCode());
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    }
    return cancelStatus;
  }

  private void assertOneOutcome(UUID id, String status, int cancelAnswer) {
    assertThat(status).as("job %s", id).isIn("SUCCEEDED", "CANCELLED");
    assertThat(terminalEvents(id)).as("terminal transitions of %s", id).isEqualTo(1);
    assertThat(
            api.count(
                "SELECT count(*) FROM tasks WHERE job_id = ? AND status IN ('QUEUED', 'RUNNING')",
                id))
        .isZero();
    JsonNode job = api.job(id);
    if (status.equals("SUCCEEDED")) {
      assertThat(cancelAnswer).as("cancel of succeeded job %s", id).isEqualTo(409);
      assertThat(job.get("result").get("finished").asInt()).isEqualTo(1);
      assertThat(ProbeJobType.COLLECTED).contains(id);
    } else {
      assertThat(cancelAnswer).as("cancel of cancelled job %s", id).isEqualTo(200);
      assertThat(job.get("result").isNull()).isTrue();
      assertThat(ProbeJobType.COLLECTED).doesNotContain(id);
    }
  }

  private long terminalEvents(UUID id) {
    return api.count(
        "SELECT count(*) FROM job_events WHERE job_id = ? AND to_status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')",
        id);
  }

  private long readyEntries() {
    RedisKeys keys = new RedisKeys(stack.env.redisPrefix());
    try (JedisPooled redis = api.redis()) {
      return PriorityBand.streams("default").stream()
          .mapToLong(s -> redis.exists(keys.readyStream(s)) ? redis.xlen(keys.readyStream(s)) : 0)
          .sum();
    }
  }

  /**
   * The task's completion needs a few tens of milliseconds to reach the collector; a cancel delayed
   * by 0-150 ms lands before, during and after that, so both orders are exercised.
   */
  private static void jitter(int maxMs) throws InterruptedException {
    Thread.sleep(ThreadLocalRandom.current().nextInt(0, maxMs + 1));
  }
}
