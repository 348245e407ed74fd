package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.coordinator.RetentionConfig;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;

/**
 * Retention through the whole stack: jobs submitted over HTTP and run by a worker are deleted a
 * second after they finish, with every row in every per-job table and every Redis key of theirs,
 * while a job still running stays whole; the tenant's quota of active jobs counts right after.
 */
@ExtendWith(SluiceTestExtension.class)
class RetentionIT {
  private static final int QUOTA = 6;
  private static final RetentionConfig ONE_SECOND =
      RetentionConfig.DEFAULT
          .withRetention(Duration.ofSeconds(1))
          .withInterval(Duration.ofMillis(300));

  @Test
  void finishedJobsGoWithEveryRowAndKeyARunningOneStaysAndTheQuotaCountsRight(TestEnvironment env)
      throws Exception {
    try (Stack stack =
        new Stack(
            env,
            1,
            8,
            c ->
                c.withTokens(ApiTokens.parse("tenant-a:" + Stack.TOKEN))
                    .withLimits(new ApiLimits(1000, 1000, 0, Map.of("tenant-a", QUOTA)))
                    .withRetention(ONE_SECOND))) {
      String running = submit(stack, "{\"tasks\":1,\"taskDelayMs\":20000}");
      List<String> finished = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        finished.add(submit(stack, "{\"tasks\":" + (1 + i) + "}"));
      }
      finished.add(submit(stack, "{\"tasks\":3,\"fail\":[1]}")); // FAILED, with a dead letter
      for (String id : finished) {
        stack.awaitTerminal(id, Duration.ofSeconds(30));
      }
      assertThat(rows(env, finished)).as("rows before retention").isNotZero();

      Awaitility.await("every row of the finished jobs is deleted")
          .atMost(Duration.ofSeconds(20))
          .until(() -> rows(env, finished) == 0);

      assertThat(stack.get("/api/v1/jobs/" + finished.getFirst()).statusCode()).isEqualTo(404);
      assertThat(redisKeysOf(env, finished)).as("Redis keys of the deleted jobs").isZero();
      assertThat(rows(env, List.of(running)))
          .as("the running job's job, task and events")
          .isEqualTo(3 + 1);
      assertThat(stack.job(running).path("status").asText()).isEqualTo("RUNNING");
      assertThat(activeJobs(env))
          .as("the running job holds the tenant's one active slot")
          .isEqualTo(1);
      // The quota holds exactly: QUOTA - 1 more jobs are accepted, the next is refused.
      for (int i = 0; i < QUOTA - 1; i++) {
        assertThat(submitStatus(stack, "{\"tasks\":1,\"taskDelayMs\":20000}")).isEqualTo(201);
      }
      assertThat(submitStatus(stack, "{\"tasks\":1}")).isEqualTo(429);
      assertThat(metric(stack, "sluice_retention_deleted_jobs_total")).isEqualTo(finished.size());
    }
  }

  private static String submit(Stack stack, String payload) {
    var answer = stack.submit("{\"type\":\"noop\",\"payload\":" + payload + "}");
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    JsonNode job = Json.read(answer.body());
    return job.path("id").asText();
  }

  private static int submitStatus(Stack stack, String payload) {
    return stack.submit("{\"type\":\"noop\",\"payload\":" + payload + "}").statusCode();
  }

  /** The jobs' rows in jobs, tasks and job_events together. */
  private static long rows(TestEnvironment env, List<String> ids) throws SQLException {
    String any = "(SELECT unnest(?::uuid[]))";
    return count(env, "SELECT count(*) FROM jobs WHERE id IN " + any, ids)
        + count(env, "SELECT count(*) FROM tasks WHERE job_id IN " + any, ids)
        + count(env, "SELECT count(*) FROM job_events WHERE job_id IN " + any, ids);
  }

  private static long activeJobs(TestEnvironment env) throws SQLException {
    return count(env, "SELECT active_jobs FROM tenant_active_jobs WHERE tenant = 'tenant-a'", null);
  }

  private static long count(TestEnvironment env, String sql, List<String> ids) throws SQLException {
    try (Connection c = DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword());
        PreparedStatement ps = c.prepareStatement(sql)) {
      if (ids != null) {
        ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  private static long redisKeysOf(TestEnvironment env, List<String> ids) {
    try (JedisPooled redis = new JedisPooled(URI.create(env.redisUrl()))) {
      return redis.keys(env.redisPrefix() + ":*").stream()
          .filter(k -> ids.stream().anyMatch(k::contains))
          .count();
    }
  }

  private static double metric(Stack stack, String name) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
            .matcher(stack.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
