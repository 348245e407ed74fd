package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.e2e.ScheduleCalls.FireRow;
import io.sluice.embedded.ChildJvm;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A schedule firing every second across a leader SIGKILL and a coordinator restart, with two
 * coordinator JVMs: every fire time has exactly one job, and fire times are missing only within the
 * failover windows.
 */
@ExtendWith(SluiceTestExtension.class)
class ScheduleFailoverIT {
  private static final String TOKEN = "schedule-failover-token-123";
  private static final Duration LEASE = Duration.ofSeconds(2);
  // A killed leader's lease runs out, the next campaign wins and its first pass fires.
  private static final Duration FAILOVER = LEASE.multipliedBy(3);

  private final List<ChildJvm> coordinators = new ArrayList<>();
  private final Map<String, Integer> ports = new HashMap<>();
  private Path logs;

  @AfterEach
  void stopAll() {
    coordinators.forEach(ChildJvm::kill);
  }

  @Test
  void everyFireTimeHasExactlyOneJobAcrossALeaderKillAndARestart(TestEnvironment env)
      throws Exception {
    logs = Files.createTempDirectory("sluice-schedules");
    ChildJvm a = start(env, "sched-a-" + System.nanoTime());
    ChildJvm b = start(env, "sched-b-" + System.nanoTime());
    String first = awaitLeader(env, -1, Set.of(a.name(), b.name()));
    ChildJvm other = first.equals(a.name()) ? b : a;
    ScheduleCalls api = new ScheduleCalls(() -> "http://127.0.0.1:" + ports.get(other.name()));
    awaitReady(api);
    // No workers: the jobs stay QUEUED, and "allow" fires them all the same.
    api.created(
        TOKEN,
        """
        {"name":"heartbeat","every":"1s","overlap":"allow",
         "job":{"type":"noop","payload":{"tasks":1}}}
        """);
    awaitFires(env, 6);

    long firstEpoch = epochOf(env);
    coordinator(first).kill();
    String second = awaitLeader(env, firstEpoch, Set.of(other.name()));
    awaitFires(env, fireCount(env) + 5);
    // The killed node comes back; then the leader is stopped, and the restarted one takes over.
    ChildJvm restarted = start(env, first + "-again");
    awaitReady(new ScheduleCalls(() -> "http://127.0.0.1:" + ports.get(restarted.name())));
    long secondEpoch = epochOf(env);
    coordinator(second).stop();
    awaitLeader(env, secondEpoch, Set.of(restarted.name()));
    awaitFires(env, fireCount(env) + 5);
    new ScheduleCalls(() -> "http://127.0.0.1:" + ports.get(restarted.name()))
        .pause(TOKEN, "heartbeat");

    List<FireRow> fires;
    try (Connection c = env.connect()) {
      fires = ScheduleCalls.fires(c, "tenant-f", "heartbeat");
      assertThat(ScheduleCalls.jobsOf(c, "tenant-f", "heartbeat"))
          .as("jobs of the schedule, one per fire")
          .isEqualTo(fires.size());
    }
    assertThat(fires).allSatisfy(f -> assertThat(f.outcome()).isEqualTo("submitted"));
    assertThat(fires).extracting(FireRow::jobId).doesNotContainNull().doesNotHaveDuplicates();
    assertThat(fires)
        .allSatisfy(
            f ->
                assertThat(f.jobKey())
                    .as("the job's key names its fire")
                    .endsWith(":" + f.fireTime()));
    assertThat(fires.stream().map(FireRow::epoch).collect(Collectors.toSet()))
        .as("leader epochs that fired")
        .hasSizeGreaterThanOrEqualTo(3);
    List<Duration> gaps = new ArrayList<>();
    for (int i = 1; i < fires.size(); i++) {
      Duration gap = Duration.between(fires.get(i - 1).fireTime(), fires.get(i).fireTime());
      assertThat(gap.toMillis() % 1000).as("fire times stay on the 1 s grid").isZero();
      assertThat(gap).as("a gap between fires").isLessThanOrEqualTo(FAILOVER);
      if (gap.compareTo(Duration.ofSeconds(1)) > 0) {
        gaps.add(gap);
      }
    }
    assertThat(gaps)
        .as("gaps of more than the period: one per failover at most")
        .hasSizeLessThanOrEqualTo(2);
  }

  private ChildJvm start(TestEnvironment env, String node) throws Exception {
    Map<String, String> vars = env.sluiceEnv();
    int port = freePort();
    ports.put(node, port);
    vars.put("SLUICE_API_TOKENS", "tenant-f:" + TOKEN);
    vars.put("SLUICE_HTTP_PORT", String.valueOf(port));
    vars.put("SLUICE_NODE_ID", node);
    vars.put("SLUICE_LEADER_LEASE", LEASE.toSeconds() + "s");
    ChildJvm jvm =
        ChildJvm.builder("io.sluice.coordinator.CoordinatorMain")
            .name(node)
            .classpath(ChildJvm.currentClasspath())
            .jvmArgs("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .env(vars)
            .logFile(logs.resolve(node + ".log"))
            .start();
    coordinators.add(jvm);
    return jvm;
  }

  private ChildJvm coordinator(String node) {
    return coordinators.stream().filter(c -> c.name().equals(node)).findFirst().orElseThrow();
  }

  private static void awaitReady(ScheduleCalls api) {
    Awaitility.await("coordinator ready")
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> api.get(TOKEN, "/api/v1/schedules").statusCode() == 200);
  }

  private static void awaitFires(TestEnvironment env, long count) {
    Awaitility.await(count + " fires")
        .atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> fireCount(env) >= count);
  }

  private static long fireCount(TestEnvironment env) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM schedule_fires")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long epochOf(TestEnvironment env) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery("SELECT epoch FROM coordinator_leader")) {
      return rs.next() ? rs.getLong(1) : -1;
    }
  }

  /** The leader once it is one of {@code among}, with an epoch after {@code afterEpoch}. */
  private static String awaitLeader(TestEnvironment env, long afterEpoch, Set<String> among) {
    String[] found = new String[1];
    Awaitility.await("a leader among " + among)
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () -> {
              try (Connection c = env.connect();
                  ResultSet rs =
                      c.createStatement()
                          .executeQuery(
                              "SELECT node_id, epoch FROM coordinator_leader"
                                  + " WHERE lease_until > now()")) {
                if (!rs.next() || rs.getLong(2) <= afterEpoch) {
                  return false;
                }
                found[0] = rs.getString(1);
                return among.contains(found[0]);
              }
            });
    return found[0];
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
