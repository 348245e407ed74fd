package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.coordinator.RetentionConfig;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * A measurement, not a timed assertion (BENCHMARKS.md, "Retention (issue 12)"): a steady stream of
 * small jobs with a retention of a few seconds, sampling table and index sizes, live and dead
 * tuples and Redis memory every ten seconds, so one can see them level off. Runs only with {@code
 * -Dsluice.soak=true}; {@code -Dsluice.soak.seconds=N} sets its length (default 150).
 */
@ExtendWith(SluiceTestExtension.class)
@EnabledIfSystemProperty(named = "sluice.soak", matches = "true")
class RetentionSoakIT {
  private static final int JOBS_PER_BATCH = 10;
  private static final int TASKS_PER_JOB = 5;
  private static final String SAMPLE =
      """
      SELECT relname, pg_total_relation_size(relid) AS total, pg_indexes_size(relid) AS indexes,
             n_live_tup, n_dead_tup, autovacuum_count
        FROM pg_stat_user_tables WHERE relname IN ('jobs', 'tasks', 'job_events') ORDER BY relname
      """;

  @Test
  void tableAndIndexSizesLevelOffUnderAStreamOfJobsWithAShortRetention(TestEnvironment env)
      throws Exception {
    long seconds = Long.getLong("sluice.soak.seconds", 150);
    RetentionConfig retention =
        RetentionConfig.DEFAULT
            .withRetention(Duration.ofSeconds(3))
            .withInterval(Duration.ofSeconds(1));
    AtomicLong submitted = new AtomicLong();
    List<String> samples = new ArrayList<>();
    try (Stack stack =
            new Stack(
                env,
                2,
                16,
                c ->
                    c.withTokens(ApiTokens.parse("tenant-a:" + Stack.TOKEN))
                        .withLimits(new ApiLimits(1000, 1000, 0, Map.of()))
                        .withRetention(retention));
        Jedis redis = new Jedis(URI.create(env.redisUrl()))) {
      ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
      load.scheduleAtFixedRate(
          () -> {
            var answer = stack.post("/api/v1/jobs/batch", "application/json", Stack.TOKEN, batch());
            if (answer.statusCode() == 201) {
              submitted.addAndGet(JOBS_PER_BATCH);
            }
          },
          0,
          250,
          TimeUnit.MILLISECONDS);
      long start = System.nanoTime();
      try {
        for (long t = 0; t <= seconds; t += 10) {
          samples.add(sample(env, redis, t, submitted.get()));
          long next = start + TimeUnit.SECONDS.toNanos(t + 10);
          TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));
        }
      } finally {
        load.shutdownNow();
      }
      samples.add(explain(env));
    }
    samples.forEach(System.out::println);
    assertThat(submitted.get()).isPositive();
  }

  private static String batch() {
    StringBuilder b = new StringBuilder("{\"jobs\":[");
    for (int i = 0; i < JOBS_PER_BATCH; i++) {
      b.append(i == 0 ? "" : ",")
          .append("{\"type\":\"noop\",\"payload\":{\"tasks\":")
          .append(TASKS_PER_JOB)
          .append("}}");
    }
    return b.append("]}").toString();
  }

  /** One line: elapsed, jobs submitted, then per table total/index bytes, live/dead, vacuums. */
  private static String sample(TestEnvironment env, Jedis redis, long t, long submitted)
      throws SQLException {
    StringBuilder line = new StringBuilder("soak t=" + t + "s submitted=" + submitted);
    try (Connection c = connect(env);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(SAMPLE)) {
      while (rs.next()) {
        line.append(
            String.format(
                " | %s total=%dkB idx=%dkB live=%d dead=%d autovac=%d",
                rs.getString(1),
                rs.getLong(2) / 1024,
                rs.getLong(3) / 1024,
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6)));
      }
    }
    String memory = redis.info("memory");
    String used = memory.lines().filter(l -> l.startsWith("used_memory:")).findFirst().orElse("");
    long jobKeys = redis.keys(env.redisPrefix() + ":{j:*").size();
    return line.append(" | redis ").append(used).append(" jobKeys=").append(jobKeys).toString();
  }

  /** The plan of the expired-job lookup on the table as the soak left it. */
  private static String explain(TestEnvironment env) throws SQLException {
    StringBuilder plan = new StringBuilder("soak explain:");
    try (Connection c = connect(env);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                """
                EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM jobs
                 WHERE parent_id IS NULL AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                   AND finished_at < now() - interval '3 seconds'
                 ORDER BY finished_at LIMIT 500
                """)) {
      while (rs.next()) {
        plan.append("\n  ").append(rs.getString(1));
      }
    }
    return plan.toString();
  }

  private static Connection connect(TestEnvironment env) throws SQLException {
    return DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword());
  }
}
