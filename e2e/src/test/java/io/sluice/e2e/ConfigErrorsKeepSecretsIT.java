package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.embedded.ChildJvm;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real coordinator and worker processes that cannot start print why, but never a password or a
 * token: a mistyped (libpq-style) database URL, and a JDBC URL whose password parameter is right
 * but whose server cannot be reached.
 */
@ExtendWith(SluiceTestExtension.class)
class ConfigErrorsKeepSecretsIT {
  private static final String SECRET = "planted" + UUID.randomUUID().toString().substring(0, 8);
  private static final Duration EXIT = Duration.ofSeconds(60);

  @TempDir Path logs;

  @Test
  void aMistypedDatabaseUrlStopsBothProcessesWithoutPrintingItsPassword(TestEnvironment env)
      throws Exception {
    Map<String, String> vars = vars(env);
    vars.put("SLUICE_DATABASE_URL", "postgres://sluice:" + SECRET + "@127.0.0.1/sluice");

    for (String main : new String[] {LAUNCH_COORDINATOR, LAUNCH_WORKER}) {
      String output = runToExit(main, vars, 2);
      assertThat(output).as(main).contains("SLUICE_DATABASE_URL", "jdbc:postgresql:");
      assertThat(output).as(main).doesNotContain(SECRET);
    }
  }

  @Test
  void anUnreachableDatabaseStopsTheCoordinatorWithoutPrintingThePasswordOrToken(
      TestEnvironment env) throws Exception {
    Map<String, String> vars = vars(env);
    vars.put("SLUICE_DATABASE_URL", "jdbc:postgresql://127.0.0.1:1/sluice?password=" + SECRET);

    String output = runToExit(LAUNCH_COORDINATOR, vars, 1);

    assertThat(output).contains("not started");
    assertThat(output).doesNotContain(SECRET);
  }

  private static final String LAUNCH_COORDINATOR = "io.sluice.coordinator.CoordinatorMain";
  private static final String LAUNCH_WORKER = "io.sluice.worker.WorkerMain";

  private static Map<String, String> vars(TestEnvironment env) {
    Map<String, String> vars = new LinkedHashMap<>(env.sluiceEnv());
    vars.put("SLUICE_API_TOKENS", "tenant-s:" + SECRET + "-token");
    vars.put("SLUICE_ADMIN_TOKENS", "ops:" + SECRET + "-admin");
    vars.put("SLUICE_REDIS_URL", "redis://:" + SECRET + "@127.0.0.1:6379");
    vars.put("SLUICE_DATABASE_PASSWORD", SECRET);
    vars.put("SLUICE_HTTP_PORT", "0");
    return vars;
  }

  private String runToExit(String main, Map<String, String> vars, int expected) throws Exception {
    Path log = logs.resolve(main.substring(main.lastIndexOf('.') + 1) + ".log");
    try (ChildJvm jvm =
        ChildJvm.builder(main)
            .name(main)
            .classpath(ChildJvm.currentClasspath())
            .jvmArgs("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
            .env(vars)
            .logFile(log)
            .start()) {
      OptionalInt code = jvm.waitFor(EXIT);
      String output = Files.readString(log);
      assertThat(code).as(main + " exited; its output:\n" + output).hasValue(expected);
      return output;
    }
  }
}
