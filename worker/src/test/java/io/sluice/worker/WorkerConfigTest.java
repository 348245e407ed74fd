package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.Env;
import io.sluice.config.RedisConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
  private static final Map<String, String> REQUIRED =
      Map.of(
          "SLUICE_DATABASE_URL", "jdbc:postgresql://db:5432/sluice",
          "SLUICE_DATABASE_USER", "sluice",
          "SLUICE_DATABASE_PASSWORD", "db-secret-1",
          "SLUICE_REDIS_URL", "redis://app:redis-secret-2@redis:6379");

  private static WorkerConfig.Builder builder() {
    return WorkerConfig.builder(
        new DatabaseConfig("jdbc:postgresql://db:5432/sluice", "sluice", "db-secret-1", 6),
        RedisConfig.parse("redis://app:redis-secret-2@redis:6379", "sluice"));
  }

  @Test
  void anEmptyEnvironmentGivesTheReadmeDefaults() {
    WorkerConfig c = WorkerConfig.fromEnv(new Env(REQUIRED));

    assertThat(c.queues()).containsExactly("default");
    assertThat(c.concurrency()).isEqualTo(32);
    assertThat(c.commitBacklog()).isEqualTo(2000);
    assertThat(c.lease()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.retryBase()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.retryMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.drainGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.httpPort()).isEqualTo(8081);
    assertThat(c.workerId()).startsWith("worker-");
    assertThat(c.database().poolSize()).isEqualTo(6);
  }

  @Test
  void theBuilderAndTheEnvironmentShareOneSetOfDefaults() {
    WorkerConfig fromEnv = WorkerConfig.fromEnv(new Env(REQUIRED));
    WorkerConfig built = builder().workerId(fromEnv.workerId()).build();

    assertThat(built).isEqualTo(fromEnv);
  }

  @Test
  void everyVariableTheReadmeNamesIsRead() {
    Map<String, String> vars = new HashMap<>(REQUIRED);
    vars.putAll(
        Map.of(
            "SLUICE_WORKER_ID", "w-7",
            "SLUICE_WORKER_QUEUES", " a, b ,,c",
            "SLUICE_WORKER_CONCURRENCY", "4",
            "SLUICE_WORKER_COMMIT_BACKLOG", "10",
            "SLUICE_LEASE_DURATION", "5s",
            "SLUICE_RETRY_BASE", "50ms",
            "SLUICE_RETRY_MAX", "1m",
            "SLUICE_DRAIN_GRACE", "2s",
            "SLUICE_HTTP_PORT", "0"));
    WorkerConfig c = WorkerConfig.fromEnv(new Env(vars));

    assertThat(c)
        .isEqualTo(
            builder()
                .workerId("w-7")
                .queues(List.of("a", "b", "c"))
                .concurrency(4)
                .commitBacklog(10)
                .lease(Duration.ofSeconds(5))
                .retryBase(Duration.ofMillis(50))
                .retryMax(Duration.ofMinutes(1))
                .drainGrace(Duration.ofSeconds(2))
                .httpPort(0)
                .build());
  }

  @Test
  void eachInvalidSettingIsRefusedNamingItsValueAndWhy() {
    assertInvalid(
        b -> b.lease(Duration.ofMillis(500)), "SLUICE_LEASE_DURATION=PT0.5S", "at least 1s");
    assertInvalid(b -> b.retryBase(Duration.ZERO), "SLUICE_RETRY_BASE=PT0S", "positive");
    assertInvalid(b -> b.retryMax(Duration.ofSeconds(-1)), "SLUICE_RETRY_MAX=PT-1S", "positive");
    assertInvalid(
        b -> b.retryBase(Duration.ofSeconds(10)).retryMax(Duration.ofSeconds(5)),
        "SLUICE_RETRY_MAX=PT5S",
        "at least SLUICE_RETRY_BASE (PT10S)");
    assertInvalid(b -> b.drainGrace(null), "SLUICE_DRAIN_GRACE=(unset)", "positive");
    assertInvalid(b -> b.concurrency(0), "SLUICE_WORKER_CONCURRENCY=0", "between 1 and 10000");
    assertInvalid(b -> b.commitBacklog(100_001), "SLUICE_WORKER_COMMIT_BACKLOG", "100000");
    assertInvalid(b -> b.queues(List.of()), "SLUICE_WORKER_QUEUES", "must list queue names");
    assertInvalid(b -> b.queues(List.of("a b")), "SLUICE_WORKER_QUEUES=a b", "queue names");
    assertInvalid(b -> b.httpPort(65536), "SLUICE_HTTP_PORT=65536", "0-65535");
    assertInvalid(b -> b.workerId("has space"), "SLUICE_WORKER_ID=has space", "without spaces");
  }

  @Test
  void aBadDurationInTheEnvironmentIsRefusedBeforeAnythingStarts() {
    Map<String, String> vars = new HashMap<>(REQUIRED);
    vars.put("SLUICE_DRAIN_GRACE", "0s");

    assertThatThrownBy(() -> WorkerConfig.fromEnv(new Env(vars)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_DRAIN_GRACE=0s");
  }

  @Test
  void theStartupLineNamesEverySettingAndNoSecret() {
    String line = builder().workerId("w-1").build().describe();

    assertThat(line)
        .contains(
            "workerId=w-1", "queues=[default]", "concurrency=32", "lease=PT30S", "drainGrace=")
        .contains("redis://****@redis:6379", "jdbc:postgresql://db:5432/sluice")
        .doesNotContain("db-secret-1", "redis-secret-2");
  }

  private static void assertInvalid(
      UnaryOperator<WorkerConfig.Builder> change, String named, String why) {
    assertThatThrownBy(() -> change.apply(builder()).build())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(named)
        .hasMessageContaining(why);
  }
}
