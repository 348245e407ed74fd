package io.sluice.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.Env;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.coordinator.MigrateConfig;
import io.sluice.worker.WorkerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code docker-compose.yml} is checked against the code: every {@code SLUICE_*} variable a service
 * sets is one its configuration really reads (recorded by {@link Env} while the configuration is
 * built from that very environment), every required one is set, and every value parses. Also the
 * services, health checks, persistence, the drain grace against the stop grace, and the
 * least-privilege wiring (the runtime roles, the one-shot migration).
 */
class ComposeFileTest {
  private static final Pattern SLUICE_VARIABLE = Pattern.compile("\\$\\{(SLUICE_[A-Z0-9_]+)");

  private static ComposeFile compose;

  @BeforeAll
  static void load() throws IOException {
    compose = ComposeFile.load(ComposeFile.dotEnv(ComposeFile.dir().resolve(".env.example")));
  }

  @Test
  void definesRedisPostgresTheMigrationACoordinatorAndScalableWorkers() {
    assertThat(compose.services())
        .containsOnlyKeys("redis", "postgres", "migrate", "coordinator", "worker");
    assertThat(compose.setting("postgres", "image")).isEqualTo("postgres:15");
    assertThat(compose.setting("redis", "image")).startsWith("redis:7");
    assertThat(compose.setting("coordinator", "image"))
        .isEqualTo("sluice/coordinator:" + projectVersion());
    assertThat(compose.setting("worker", "image")).isEqualTo("sluice/worker:" + projectVersion());
    assertThat(compose.setting("migrate", "image"))
        .isEqualTo(compose.setting("coordinator", "image"));
  }

  @Test
  void everyLongRunningServiceHasAHealthCheckOnItsReadiness() {
    assertThat(compose.healthcheck("redis")).contains("ping").contains("--user sluice");
    assertThat(compose.healthcheck("postgres")).contains("pg_isready");
    assertThat(compose.healthcheck("coordinator"))
        .contains(
            "http://127.0.0.1:"
                + compose.environment("coordinator").get("SLUICE_HTTP_PORT")
                + "/health/ready");
    assertThat(compose.healthcheck("worker"))
        .contains(
            "http://127.0.0.1:"
                + compose.environment("worker").get("SLUICE_HTTP_PORT")
                + "/health/ready");
    assertThat(compose.healthcheck("migrate")).as("a one-shot job has none").isNull();
    for (String service : new String[] {"coordinator", "worker"}) {
      assertThat(compose.healthcheck(service))
          .as("%s: the image's JVM probes itself; the base has no curl or shell", service)
          .contains("io.sluice.health.HealthProbe")
          .doesNotContain("curl");
    }
  }

  @Test
  void hasNoTopLevelNameWhichComposeV1Rejects() throws IOException {
    assertThat(compose.rawText()).noneMatch(line -> line.startsWith("name:"));
  }

  @Test
  void redisKeepsAnAppendOnlyFileAndPostgresItsDataOnVolumes() throws IOException {
    String start = Files.readString(ComposeFile.dir().resolve("redis/redis-start.sh"));
    assertThat(String.join(" ", compose.list("redis", "command")))
        .contains("/etc/sluice/redis-start.sh");
    assertThat(start).contains("--appendonly yes").contains("--aclfile");
    assertThat(compose.list("redis", "volumes"))
        .contains("redis-data:/data", "./redis:/etc/sluice:ro");
    assertThat(compose.list("postgres", "volumes"))
        .contains("postgres-data:/var/lib/postgresql/data");
  }

  @Test
  void workersHaveNoFixedHostPortAndMoreStopGraceThanDrainGrace() {
    assertThat(compose.service("worker"))
        .doesNotContainKey("ports")
        .doesNotContainKey("container_name");
    Duration drain =
        Env.parseDuration(compose.environment("worker").getOrDefault("SLUICE_DRAIN_GRACE", "30s"));
    Duration stop = composeDuration(compose.setting("worker", "stop_grace_period"));
    assertThat(stop)
        .as("stop_grace_period vs SLUICE_DRAIN_GRACE")
        .isGreaterThan(drain.plusSeconds(5));
    assertThat(compose.list("coordinator", "ports"))
        .containsExactly("8080:" + compose.environment("coordinator").get("SLUICE_HTTP_PORT"));
  }

  @Test
  void theCoordinatorIsPublishedOn8080UnlessCoordinatorPublishNamesAnotherAddress()
      throws IOException {
    Map<String, String> vars =
        new LinkedHashMap<>(ComposeFile.dotEnv(ComposeFile.dir().resolve(".env.example")));
    vars.put("COORDINATOR_PUBLISH", "127.0.0.1:18080");
    assertThat(ComposeFile.load(vars).list("coordinator", "ports"))
        .containsExactly("127.0.0.1:18080:8080");
  }

  @Test
  void theCoordinatorsEnvironmentIsAValidConfigurationOfVariablesItReads() {
    Map<String, String> vars = compose.environment("coordinator");
    Env env = new Env(vars);
    CoordinatorConfig config = CoordinatorConfig.fromEnv(env);

    assertThat(sluiceNames(vars)).isSubsetOf(union(env.namesRead(), loggingNames()));
    assertThat(vars).containsKeys(env.namesRequired().toArray(String[]::new));
    assertThat(config.migrate()).as("the coordinator runs without DDL rights").isFalse();
    assertThat(config.database().user()).isEqualTo("sluice_app");
    assertThat(config.redis().user()).isEqualTo("sluice");
    assertThat(config.redis().prefix()).isEqualTo("sluice");
  }

  @Test
  void theWorkersEnvironmentIsAValidConfigurationOfVariablesItReads() {
    Map<String, String> vars = compose.environment("worker");
    Env env = new Env(vars);
    WorkerConfig config = WorkerConfig.fromEnv(env);

    assertThat(sluiceNames(vars)).isSubsetOf(union(env.namesRead(), loggingNames()));
    assertThat(vars).containsKeys(env.namesRequired().toArray(String[]::new));
    assertThat(config.database().user()).isEqualTo("sluice_app");
    assertThat(config.redis().user()).isEqualTo("sluice");
    assertThat(config.httpPort()).isEqualTo(8081);
    assertThat(compose.list("worker", "expose")).containsExactly("8081");
  }

  @Test
  void theMigrationRunsOnceAsTheSchemaOwnerBeforeAnyCoordinatorOrWorker() throws Exception {
    Map<String, String> vars = compose.environment("migrate");
    Env env = new Env(vars);
    MigrateConfig config = MigrateConfig.fromEnv(env);

    assertThat(sluiceNames(vars)).isSubsetOf(union(env.namesRead(), loggingNames()));
    assertThat(config.database().user()).isEqualTo("sluice_owner");
    String entrypoint = String.join(" ", compose.list("migrate", "entrypoint"));
    Matcher main = Pattern.compile("(io\\.sluice\\.[A-Za-z.]+Main)").matcher(entrypoint);
    assertThat(main.find()).as(entrypoint).isTrue();
    assertThat(Class.forName(main.group(1)).getMethod("main", String[].class)).isNotNull();
    assertThat(compose.setting("migrate", "restart")).isEqualTo("no");
    assertThat(compose.dependsOn("migrate")).containsEntry("postgres", "service_healthy");
    for (String service : new String[] {"coordinator", "worker"}) {
      assertThat(compose.dependsOn(service))
          .as(service)
          .containsEntry("migrate", "service_completed_successfully")
          .containsEntry("redis", "service_healthy")
          .containsEntry("postgres", "service_healthy");
    }
  }

  @Test
  void theRolesTheServicesUseAreTheOnesTheInitScriptsCreate() throws IOException {
    String pgInit = Files.readString(ComposeFile.dir().resolve("postgres/10-sluice-roles.sh"));
    String redisStart = Files.readString(ComposeFile.dir().resolve("redis/redis-start.sh"));
    assertThat(pgInit)
        .contains("CREATE ROLE sluice_owner")
        .contains("-v app_role=sluice_app")
        .contains("-f /etc/sluice/postgres-roles.sql");
    assertThat(compose.list("postgres", "volumes"))
        .contains("../docs/postgres-roles.sql:/etc/sluice/postgres-roles.sql:ro");
    assertThat(redisStart).contains("user default off").contains("user sluice reset on #");
    assertThat(Files.readString(ComposeFile.dir().resolve("redis/sluice.acl")))
        .contains("~" + compose.environment("coordinator").get("SLUICE_REDIS_PREFIX") + ":*");
  }

  @Test
  void noSecretHasADefaultInTheComposeFile() throws IOException {
    Pattern secret = Pattern.compile("\\$\\{([A-Z_]*(PASSWORD|TOKENS?)[A-Z_]*)(:?[-?])?");
    for (String line : compose.rawText()) {
      Matcher m = secret.matcher(line);
      while (m.find()) {
        assertThat(m.group(3)).as("%s in: %s", m.group(1), line.trim()).isEqualTo(":?");
      }
    }
    assertThatThrownBy(() -> ComposeFile.load(Map.of()).environment("coordinator"))
        .hasMessageContaining("required variable");
  }

  @Test
  void composeVariablesAreNotSluiceSettings() throws IOException {
    // ${SLUICE_…} in the file would be the host's setting leaking into every service; the
    // services' SLUICE_* values are written out instead.
    Set<String> interpolated = new TreeSet<>();
    for (String line : compose.rawText()) {
      Matcher m = SLUICE_VARIABLE.matcher(line);
      while (m.find()) {
        interpolated.add(m.group(1));
      }
    }
    assertThat(interpolated).isEmpty();
  }

  private static Set<String> sluiceNames(Map<String, String> vars) {
    return vars.keySet().stream()
        .filter(n -> n.startsWith("SLUICE_"))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The SLUICE_* variables the logging configuration reads (logback.xml of both processes). */
  private static Set<String> loggingNames() {
    Set<String> names = new TreeSet<>();
    try {
      for (URL url :
          Collections.list(ComposeFileTest.class.getClassLoader().getResources("logback.xml"))) {
        try (InputStream in = url.openStream()) {
          Matcher m =
              Pattern.compile("\\$\\{(SLUICE_[A-Z0-9_]+)")
                  .matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          while (m.find()) {
            names.add(m.group(1));
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return names;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }

  /** Compose's durations: {@code 45s}, {@code 1m30s}, {@code 500ms}, {@code 1h}. */
  static Duration composeDuration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|us|h|m|s)").matcher(text);
    Duration total = Duration.ZERO;
    int end = 0;
    Map<String, Function<Long, Duration>> units =
        Map.of(
            "h", Duration::ofHours,
            "m", Duration::ofMinutes,
            "s", Duration::ofSeconds,
            "ms", Duration::ofMillis,
            "us", n -> Duration.ofNanos(n * 1000));
    while (m.find()) {
      if (m.start() != end) {
        break;
      }
      total = total.plus(units.get(m.group(2)).apply(Long.parseLong(m.group(1))));
      end = m.end();
    }
    if (end != text.length() || end == 0) {
      throw new IllegalArgumentException("not a compose duration: " + text);
    }
    return total;
  }

  private static String projectVersion() {
    return System.getProperty("sluice.project.version");
  }
}
