package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.RepairFixture.Row;
import io.sluice.coordinator.redis.LettuceCoordination;
import io.sluice.redis.PriorityBand;
import io.sluice.store.Database;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * G1 and G3 under clutter: more jobs than one repair page holds that the sweeper cannot act on — on
 * a queue no worker reads, or delayed far ahead — are ahead of a job whose collect signal was lost
 * and a delayed job that is due; both are still repaired.
 */
@ExtendWith(SluiceTestExtension.class)
class SweeperStarvationIT {
  private static final int CLUTTER = 150;

  @Test
  void jobsTheSweeperCannotActOnDoNotKeepOthersFromRepair(TestEnvironment env) throws Exception {
    UUID uncollected;
    UUID due;
    try (Database db =
            new Database(
                new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2), "fixture");
        LettuceCoordination redis =
            new LettuceCoordination(RedisConfig.parse(env.redisUrl(), env.redisPrefix()))) {
      db.migrate();
      // Redis holds its state already: no start-up rebuild re-dispatches everything.
      redis.setMarker(RedisRebuild.MARKER);
      String unread = PriorityBand.stream("nobody-reads", 0);
      redis.ensureWorkerGroup(unread);
      try (Connection c = env.connect()) {
        for (int i = 0; i < CLUTTER; i++) {
          // Running, its task waiting on a queue that has entries no worker reads: nothing to do.
          UUID stuck =
              RepairFixture.insert(
                  c,
                  new Row(
                      "counting",
                      "nobody-reads",
                      "RUNNING",
                      "{\"tasks\": 1, \"key\": \"$ID\"}",
                      1,
                      "QUEUED",
                      Duration.ofHours(2),
                      null));
          redis.enqueue(unread, stuck, new int[] {0});
          // Delayed by a day: not due, nothing to do.
          RepairFixture.insert(
              c,
              new Row(
                  "counting",
                  "default",
                  "QUEUED",
                  "{\"tasks\": 1, \"key\": \"$ID\"}",
                  1,
                  "QUEUED",
                  Duration.ofHours(2),
                  Instant.now().plus(Duration.ofDays(1))));
        }
        uncollected =
            RepairFixture.insert(
                c,
                new Row(
                    "counting",
                    "default",
                    "RUNNING",
                    "{\"tasks\": 2, \"key\": \"$ID\"}",
                    2,
                    "SUCCEEDED",
                    Duration.ofHours(1),
                    null));
        due =
            RepairFixture.insert(
                c,
                new Row(
                    "counting",
                    "default",
                    "QUEUED",
                    "{\"tasks\": 2, \"key\": \"$ID\"}",
                    2,
                    "QUEUED",
                    Duration.ofHours(1),
                    Instant.now().minusSeconds(1)));
      }
    }

    try (Coordinator coordinator =
        Coordinator.start(
            RepairFixture.config(env)
                .collectGrace(Duration.ofSeconds(1))
                .dispatchGrace(Duration.ofSeconds(30))
                .build())) {
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                assertThat(RepairFixture.status(env, uncollected))
                    .as("the job whose collect signal was lost")
                    .isEqualTo("SUCCEEDED");
                assertThat(RepairFixture.status(env, due))
                    .as("the delayed job that is due")
                    .isEqualTo("RUNNING");
              });
      assertThat(CountingJobType.runs(uncollected.toString())).isEqualTo(1);
    }
  }
}
