package io.sluice.coordinator.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.RedisConfig;
import io.sluice.coordinator.CoordinatorRedis.QueueDepth;
import io.sluice.redis.RedisKeys;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XReadGroupParams;

/** The Redis side of the dashboard against a real Redis: reopening a fan-in, and queue depths. */
@ExtendWith(SluiceTestExtension.class)
class LettuceDashboardIT {
  private static LettuceCoordination redis;
  private static JedisPooled jedis;
  private static RedisKeys keys;

  @BeforeAll
  static void connect(TestEnvironment env) {
    redis = new LettuceCoordination(RedisConfig.parse(env.redisUrl(), env.redisPrefix()));
    jedis = new JedisPooled(URI.create(env.redisUrl()));
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  static void close() {
    redis.close();
    jedis.close();
  }

  @Test
  void aRequeuedTaskCountsAsUnfinishedAgainExactlyOnce() {
    UUID job = UUID.randomUUID();
    redis.initFanIn(job, 3);
    // What a worker's fan-in does when task 1 fails for good.
    jedis.setbit(keys.counted(job), 1, true);
    jedis.decr(keys.remaining(job));

    assertThat(redis.reopenFanIn(job, 1)).isEqualTo(3);
    assertThat(jedis.getbit(keys.counted(job), 1)).isFalse();
    assertThat(redis.reopenFanIn(job, 1)).as("a repeated reopen counts nothing").isEqualTo(3);
    assertThat(redis.reopenFanIn(job, 2)).as("a task never counted changes nothing").isEqualTo(3);
  }

  @Test
  void aJobWithoutACounterIsReportedAndGetsNoKey() {
    UUID job = UUID.randomUUID();

    assertThat(redis.reopenFanIn(job, 0)).isEqualTo(-1);
    assertThat(jedis.exists(keys.remaining(job))).isFalse();
  }

  @Test
  void queueDepthsCountEntriesReadButNotAcknowledged() {
    redis.ensureWorkerGroup("dash");
    redis.enqueue("dash", UUID.randomUUID(), new int[] {0, 1, 2});
    jedis.xreadGroup(
        RedisKeys.WORKER_GROUP,
        "worker-1",
        XReadGroupParams.xReadGroupParams().count(2),
        Map.of(keys.readyStream("dash"), StreamEntryID.UNRECEIVED_ENTRY));

    Map<String, QueueDepth> depths = redis.queueDepths(List.of("dash", "never-used"));

    QueueDepth dash = depths.get("dash");
    assertThat(dash.length()).isEqualTo(3);
    assertThat(dash.pending()).isEqualTo(2);
    assertThat(dash.oldestAgeMs()).isBetween(0L, 60_000L);
    assertThat(depths.get("never-used")).isEqualTo(new QueueDepth(0, 0, 0));
  }
}
