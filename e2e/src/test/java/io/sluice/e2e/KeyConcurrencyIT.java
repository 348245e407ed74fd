package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.RedisKeys;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/**
 * Per-key concurrency (issue 13, item 4) through the API with a coordinator and two workers: a
 * flooded key runs at most its limit at once across both workers and across its jobs, while another
 * key's job, submitted in the middle of the flood, finishes as fast as it does alone; a key without
 * a limit of its own takes SLUICE_KEY_MAX_CONCURRENCY (1 here); wrong input is refused.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyConcurrencyIT {
  private Stack stack;
  private JobApi api;
  private RedisKeys keys;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 2, 8);
    api = new JobApi(stack);
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void aFloodedKeyKeepsToItsLimitAndAnotherKeysJobIsNotHeldBehindIt() {
    // Alone first: what the calm key's job takes with the workers free.
    Duration alone = latency(calm("calm-alone"));

    UUID flood1 = api.create(probe("flood", 40, 150, "\"concurrencyLimit\": 3"));
    UUID flood2 = api.create(probe("flood", 40, 150, "\"concurrencyLimit\": 3"));
    await().atMost(Duration.ofSeconds(10)).until(() -> ProbeJobType.maxRunning("group:flood") >= 3);
    JsonNode queues = Json.read(stack.get("/api/v1/queues").body());
    JsonNode normal = null;
    for (JsonNode item : queues.path("items")) {
      if (item.path("name").asText().equals("default")) {
        normal = item;
      }
    }
    assertThat(normal).as(queues.toString()).isNotNull();
    assertThat(normal.path("waiting").asLong())
        .as(
            "the key's unread tasks count as waiting in the queue (and towards its admission bound)")
        .isGreaterThan(40);
    UUID during = calm("calm-during");
    JsonNode calm = stack.awaitTerminal(during.toString(), Duration.ofSeconds(30));
    String floodWhenCalmEnded = api.job(flood2).path("status").asText();

    assertThat(calm.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(floodWhenCalmEnded)
        .as("80 tasks of 150 ms, 3 at a time, take 4 s: the flood was still running")
        .isEqualTo("RUNNING");
    assertThat(latency(during))
        .as("the calm key's job during the flood, against %s alone", alone)
        .isLessThan(alone.plusMillis(1500));

    for (UUID flood : List.of(flood1, flood2)) {
      JsonNode job = stack.awaitTerminal(flood.toString(), Duration.ofSeconds(60));
      assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
      assertThat(job.path("tasksSucceeded").asInt()).isEqualTo(40);
      assertThat(job.path("concurrencyKey").asText()).isEqualTo("flood");
      assertThat(job.path("concurrencyLimit").asInt()).isEqualTo(3);
    }
    assertThat(ProbeJobType.maxRunning("group:flood"))
        .as("tasks of key 'flood' running at once, both jobs, both workers (16 slots)")
        .isEqualTo(3);
    assertThat(ProbeJobType.maxRunning("group:calm-during")).isEqualTo(4);
    try (JedisPooled redis = api.redis()) {
      String stream = PriorityBand.stream("default", 0, "flood");
      assertThat(redis.zcard(keys.keySlots(stream))).as("every slot given back").isZero();
      assertThat(redis.exists(keys.readyStream(stream)))
          .as("the drained key's stream is gone")
          .isFalse();
    }
  }

  @Test
  void aKeyWithoutALimitTakesTheDefaultAndWrongInputIsRefused() {
    UUID solo = api.create(probe("solo", 6, 60, null));
    JsonNode job = stack.awaitTerminal(solo.toString(), Duration.ofSeconds(30));
    assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.path("concurrencyLimit").asInt())
        .as("SLUICE_KEY_MAX_CONCURRENCY's default")
        .isEqualTo(1);
    assertThat(ProbeJobType.maxRunning("group:solo")).isEqualTo(1);

    refused(
        "{\"type\":\"probe\",\"payload\":{\"tasks\":1},\"concurrencyLimit\":2}",
        "concurrencyLimit",
        "needs a concurrencyKey");
    refused(
        "{\"type\":\"probe\",\"payload\":{\"tasks\":1},\"concurrencyKey\":\"a b\"}",
        "concurrencyKey",
        "concurrencyKey must be");
    refused(
        "{\"type\":\"probe\",\"payload\":{\"tasks\":1},\"concurrencyKey\":\"k{1}\"}",
        "concurrencyKey", "concurrencyKey must be");
    refused(
        "{\"type\":\"probe\",\"payload\":{\"tasks\":1},\"concurrencyKey\":\"k\","
            + "\"concurrencyLimit\":0}",
        "concurrencyLimit",
        "concurrencyLimit");
  }

  private void refused(String body, String field, String message) {
    HttpResponse<String> answer = api.submit(Stack.TOKEN, body);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
    JsonNode error = Json.read(answer.body());
    assertThat(error.toString()).contains(message).contains("\"field\":\"" + field + "\"");
  }

  private UUID calm(String group) {
    return api.create(
        "{\"type\":\"probe\",\"concurrencyKey\":\"calm\",\"concurrencyLimit\":4,"
            + "\"payload\":{\"tasks\":4,\"holdMs\":150,\"group\":\""
            + group
            + "\"}}");
  }

  private static String probe(String key, int tasks, int holdMs, String extra) {
    return "{\"type\":\"probe\",\"concurrencyKey\":\""
        + key
        + "\","
        + (extra == null ? "" : extra + ",")
        + "\"payload\":{\"tasks\":"
        + tasks
        + ",\"holdMs\":"
        + holdMs
        + ",\"group\":\""
        + key
        + "\"}}";
  }

  /** From the job's creation to its end, both on PostgreSQL's clock. */
  private Duration latency(UUID id) {
    JsonNode job = stack.awaitTerminal(id.toString(), Duration.ofSeconds(30));
    assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    return Duration.between(
        Instant.parse(job.path("createdAt").asText()),
        Instant.parse(job.path("finishedAt").asText()));
  }
}
