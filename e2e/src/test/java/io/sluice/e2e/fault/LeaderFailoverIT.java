package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.embedded.ChildJvm;
import io.sluice.store.Database;
import io.sluice.store.PostgresLeaderStore;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several coordinators, one leader: kill or pause it and another takes over; the old one is fenced.
 */
@ExtendWith(SluiceTestExtension.class)
class LeaderFailoverIT {
  private final List<ChildJvm> coordinators = new ArrayList<>();

  @AfterEach
  void stopAll() {
    coordinators.forEach(ChildJvm::kill);
  }

  @Test
  void killingTheLeaderElectsAnotherWithinSeconds(TestEnvironment env) throws Exception {
    startCoordinators(env, 3);
    Leader first = awaitLeader(env, -1);

    coordinators.stream()
        .filter(c -> c.name().equals(first.node()))
        .findFirst()
        .orElseThrow()
        .kill();
    long killedAt = System.nanoTime();
    Leader second = awaitLeader(env, first.epoch());

    assertThat(second.node()).isNotEqualTo(first.node());
    assertThat(second.epoch()).isGreaterThan(first.epoch());
    assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void aLeaderPausedPastItsLeaseIsDeposedAndStepsDownWhenItWakes(TestEnvironment env)
      throws Exception {
    startCoordinators(env, 2);
    Leader first = awaitLeader(env, -1);
    ChildJvm paused =
        coordinators.stream().filter(c -> c.name().equals(first.node())).findFirst().orElseThrow();

    paused.pause();
    Leader second = awaitLeader(env, first.epoch());
    paused.resume();

    assertThat(second.node()).isNotEqualTo(first.node());
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> Files.readString(paused.logFile()).contains("is no longer the leader"));
    assertThat(currentLeader(env)).isEqualTo(second);
  }

  @Test
  void aDeposedLeadersFencedWriteChangesNothing(TestEnvironment env) throws Exception {
    try (Database db =
        new Database(
            new io.sluice.config.DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2),
            "fence-test")) {
      db.migrate();
      PostgresLeaderStore store = new PostgresLeaderStore();
      // Earlier tests' coordinators were killed; their lease runs out within two seconds.
      long[] epochOfA = new long[1];
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                java.util.OptionalLong won =
                    db.inTransaction(c -> store.takeOver(c, "a", 1, Duration.ofMillis(500)));
                won.ifPresent(e -> epochOfA[0] = e);
                return won.isPresent();
              });
      long a = epochOfA[0];
      java.util.OptionalLong early =
          db.inTransaction(c -> store.takeOver(c, "b", 1, Duration.ofSeconds(30)));
      assertThat(early).as("a's lease still runs").isEmpty();
      long[] epochOfB = new long[1];
      Awaitility.await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                java.util.OptionalLong won =
                    db.inTransaction(c -> store.takeOver(c, "b", 1, Duration.ofSeconds(30)));
                won.ifPresent(e -> epochOfB[0] = e);
                return won.isPresent();
              });

      boolean fenceHeld = db.inTransaction(c -> store.holdFence(c, "a", a));
      java.util.OptionalLong renewed =
          db.inTransaction(c -> store.renew(c, "a", a, Duration.ofSeconds(5)));
      assertThat(fenceHeld).isFalse();
      assertThat(renewed).isEmpty();
      assertThat(epochOfB[0]).isGreaterThan(a);
      db.inTransaction(
          c -> {
            store.resign(c, "b", epochOfB[0]);
            return null;
          });
    }
  }

  private void startCoordinators(TestEnvironment env, int n) throws Exception {
    Path logs = Files.createTempDirectory("sluice-leaders");
    for (int i = 0; i < n; i++) {
      String node = "coordinator-" + System.nanoTime() + "-" + (char) ('a' + i);
      Map<String, String> vars = env.sluiceEnv();
      vars.put("SLUICE_API_TOKENS", "leader-test-token-123");
      vars.put("SLUICE_HTTP_PORT", String.valueOf(FaultHarness.freePort()));
      vars.put("SLUICE_NODE_ID", node);
      vars.put("SLUICE_LEADER_LEASE", "2s");
      coordinators.add(
          ChildJvm.builder("io.sluice.coordinator.CoordinatorMain")
              .name(node)
              .classpath(ChildJvm.currentClasspath())
              .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
              .env(vars)
              .logFile(logs.resolve(node + ".log"))
              .start());
    }
  }

  private record Leader(String node, long epoch) {}

  /** The leader among this test's coordinators (an earlier test's may still hold a lease). */
  private Leader awaitLeader(TestEnvironment env, long afterEpoch) {
    Leader[] found = new Leader[1];
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              found[0] = currentLeader(env);
              return found[0] != null
                  && found[0].epoch() > afterEpoch
                  && coordinators.stream().anyMatch(c -> c.name().equals(found[0].node()));
            });
    return found[0];
  }

  private static Leader currentLeader(TestEnvironment env) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT node_id, epoch FROM coordinator_leader WHERE lease_until > now()")) {
      return rs.next() ? new Leader(rs.getString(1), rs.getLong(2)) : null;
    }
  }
}
