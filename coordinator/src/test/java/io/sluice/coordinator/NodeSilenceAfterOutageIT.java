package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.coordinator.RepairFixture.Row;
import io.sluice.store.Database;
import io.sluice.store.PostgresNodeRegistry;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * After a PostgreSQL outage nobody's heartbeat could be written, so every row looks silent for as
 * long as the outage lasted. The leader that takes office once PostgreSQL is back must judge
 * silence only from then: a worker that heartbeats again keeps its leases; one that stays silent is
 * marked DEAD once the dead-after time has passed since the outage ended.
 */
@ExtendWith(SluiceTestExtension.class)
class NodeSilenceAfterOutageIT {
  private static final Duration DEAD_AFTER = Duration.ofSeconds(3);

  @Test
  void aLeaderAfterAnOutageMarksDeadOnlyNodesSilentSinceItEnded(TestEnvironment env)
      throws Exception {
    String alive = "worker-alive-" + UUID.randomUUID();
    String gone = "worker-gone-" + UUID.randomUUID();
    UUID job;
    try (Database db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2), "fixture")) {
      db.migrate();
      try (Connection c = env.connect()) {
        // Both last heartbeated ten minutes ago: the outage.
        for (String node : new String[] {alive, gone}) {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO nodes (id, kind, status, heartbeat_at)"
                      + " VALUES (?, 'worker', 'UP', now() - interval '10 minutes')")) {
            ps.setString(1, node);
            ps.executeUpdate();
          }
        }
        // The live worker holds a task whose lease it keeps renewing.
        job =
            RepairFixture.insert(
                c,
                new Row(
                    "counting",
                    "default",
                    "RUNNING",
                    "{\"tasks\": 1, \"key\": \"$ID\"}",
                    1,
                    "RUNNING",
                    Duration.ZERO,
                    null));
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE tasks SET worker_id = ?, lease_epoch = 1,"
                    + " lease_expires_at = now() + interval '1 hour' WHERE job_id = ?")) {
          ps.setString(1, alive);
          ps.setObject(2, job);
          ps.executeUpdate();
        }
      }

      // PostgreSQL is back: the live worker heartbeats again, the gone one never does.
      PostgresNodeRegistry registry = new PostgresNodeRegistry();
      ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor();
      try (Coordinator coordinator =
          Coordinator.start(RepairFixture.config(env).nodeDeadAfter(DEAD_AFTER).build())) {
        beats.scheduleWithFixedDelay(
            () ->
                db.inTransaction(
                    c -> {
                      registry.heartbeat(c, alive, "worker", "UP", "{}");
                      return null;
                    }),
            0,
            300,
            TimeUnit.MILLISECONDS);

        Awaitility.await("the silent worker is marked DEAD")
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    "DEAD"
                        .equals(
                            RepairFixture.string(
                                env, "SELECT status FROM nodes WHERE id = ?", gone)));
        assertThat(RepairFixture.string(env, "SELECT status FROM nodes WHERE id = ?", alive))
            .isEqualTo("UP");
        assertThat(
                RepairFixture.string(
                    env, "SELECT lease_expires_at > now() FROM tasks WHERE job_id = ?", job))
            .as("the heartbeating worker's lease was not cut short")
            .isEqualTo("t");
        assertThat(
                RepairFixture.string(
                    env,
                    "SELECT count(*) FROM job_events WHERE job_id = ? AND kind = 'RECLAIM'",
                    job))
            .isEqualTo("0");
      } finally {
        beats.shutdownNow();
      }
    }
  }
}
