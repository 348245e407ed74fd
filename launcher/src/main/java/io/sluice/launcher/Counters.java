package io.sluice.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.net.URI;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.Jedis;

/**
 * Counters, not estimates: what Redis and PostgreSQL report having done, read before and after a
 * run. Redis: {@code INFO commandstats} calls per command (server-wide: on a shared server other
 * clients count too). PostgreSQL, for the bench's own database: {@code pg_stat_database}
 * transactions committed, {@code pg_stat_user_tables} rows inserted/updated/deleted in {@code
 * jobs}, {@code tasks} and {@code job_events}, and, when {@code pg_stat_statements} is loaded,
 * statements executed. The bench's own queries and INFO calls are subtracted.
 */
final class Counters {
  static final List<String> TABLES = List.of("jobs", "tasks", "job_events");

  /** One reading. {@code statements} is -1 without {@code pg_stat_statements}. */
  record Snapshot(
      Map<String, Long> redisCalls,
      long xacts,
      Map<String, long[]> tuples,
      long statements,
      long ownXacts,
      long ownInfo) {}

  private final BenchDb db;
  private final String redisUrl;
  private final boolean statements;
  private long infoCalls;

  private Counters(BenchDb db, String redisUrl, boolean statements) {
    this.db = db;
    this.redisUrl = redisUrl;
    this.statements = statements;
  }

  /**
   * Readies the counters of a stack's servers: {@code pg_stat_statements} is used when the server
   * preloads it (the extension is created in the bench's database then).
   */
  static Counters of(BenchDb db, Map<String, String> env, PrintStream err) {
    boolean preloaded =
        db.query(
                    "SELECT 1 WHERE 'pg_stat_statements' = ANY(string_to_array("
                        + "replace(current_setting('shared_preload_libraries'), ' ', ''), ','))")
                .size()
            == 1;
    boolean statements =
        preloaded && db.tryExecute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", err);
    if (!preloaded) {
      err.println("bench: pg_stat_statements is not preloaded on this server; statements absent");
    }
    return new Counters(db, env.get("SLUICE_REDIS_URL"), statements);
  }

  boolean hasStatements() {
    return statements;
  }

  /** Reads every counter now, first letting this backend's own statistics reach the server. */
  Snapshot read() {
    db.query("SELECT pg_stat_force_next_flush()");
    db.query("SELECT pg_stat_clear_snapshot()");
    long xacts =
        (long)
            db.number(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    Map<String, long[]> tuples = new LinkedHashMap<>();
    for (Object[] row :
        db.query(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
                + " WHERE schemaname = current_schema() AND relname = ANY(?)",
            (Object) TABLES.toArray(String[]::new))) {
      tuples.put(
          (String) row[0],
          new long[] {
            ((Number) row[1]).longValue(),
            ((Number) row[2]).longValue(),
            ((Number) row[3]).longValue()
          });
    }
    long stmts =
        statements
            ? (long)
                db.number(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d"
                        + " ON d.oid = s.dbid WHERE d.datname = current_database()"
                        + " AND s.query NOT LIKE ?",
                    "%" + BenchDb.MARK + "%")
            : -1;
    return new Snapshot(redisCalls(), xacts, tuples, stmts, db.ownTransactions(), infoCalls);
  }

  /** {@code INFO} from Redis; an empty string when Redis cannot be asked this way. */
  String info(String section) {
    if (redisUrl == null || !redisUrl.matches("rediss?://.*")) {
      return "";
    }
    try (Jedis jedis = new Jedis(URI.create(redisUrl))) {
      infoCalls++;
      return jedis.info(section);
    } catch (RuntimeException e) {
      return "";
    }
  }

  private Map<String, Long> redisCalls() {
    return commandCalls(info("commandstats"));
  }

  /** {@code cmdstat_get:calls=12,usec=…} lines as command name → calls. */
  static Map<String, Long> commandCalls(String info) {
    Map<String, Long> calls = new LinkedHashMap<>();
    for (String line : info.split("\r?\n")) {
      if (!line.startsWith("cmdstat_")) {
        continue;
      }
      int colon = line.indexOf(':');
      int start = line.indexOf("calls=", colon);
      if (colon < 0 || start < 0) {
        continue;
      }
      int end = line.indexOf(',', start);
      calls.put(
          line.substring("cmdstat_".length(), colon),
          Long.parseLong(line.substring(start + 6, end < 0 ? line.length() : end).trim()));
    }
    return calls;
  }

  /** {@code used_memory} from {@code INFO memory}, or -1. */
  static long usedMemory(String info) {
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("used_memory:")) {
        return Long.parseLong(line.substring("used_memory:".length()).trim());
      }
    }
    return -1;
  }

  /**
   * The change from {@code before} to {@code after} as the JSON line's fields: totals, the busiest
   * Redis commands, and each per task and per job.
   *
   * @param tasks the run's tasks, for the per-task ratios
   * @param jobs the run's jobs, for the per-job ratios
   */
  static void delta(
      Snapshot before, Snapshot after, long tasks, long jobs, boolean sharedRedis, ObjectNode out) {
    Map<String, Long> redis = new LinkedHashMap<>();
    after
        .redisCalls()
        .forEach(
            (cmd, n) -> {
              long d = n - before.redisCalls().getOrDefault(cmd, 0L);
              if (cmd.equals("info")) {
                // The INFO calls the bench made between the two readings (the first one counted
                // itself).
                d -= after.ownInfo() - before.ownInfo();
              }
              if (d > 0) {
                redis.put(cmd, d);
              }
            });
    long redisTotal = redis.values().stream().mapToLong(Long::longValue).sum();
    if (after.redisCalls().isEmpty()) {
      out.putNull("redis_commands");
    } else {
      ObjectNode r = out.putObject("redis_commands").put("total", redisTotal);
      ObjectNode top = r.putObject("top");
      redis.entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
          .limit(8)
          .forEach(e -> top.put(e.getKey(), e.getValue()));
      r.put("scope", sharedRedis ? "shared server: other clients count too" : "bench's own server");
      out.put("redis_commands_per_task", ratio(redisTotal, tasks));
      out.put("redis_commands_per_job", ratio(redisTotal, jobs));
    }
    long xacts = after.xacts() - before.xacts() - (after.ownXacts() - before.ownXacts());
    out.put("pg_xacts", xacts)
        .put("pg_xacts_per_task", ratio(xacts, tasks))
        .put("pg_xacts_per_job", ratio(xacts, jobs));
    ObjectNode t = out.putObject("pg_tuples");
    long total = 0;
    for (String table : TABLES) {
      long[] a = after.tuples().getOrDefault(table, new long[3]);
      long[] b = before.tuples().getOrDefault(table, new long[3]);
      ObjectNode row =
          t.putObject(table)
              .put("ins", a[0] - b[0])
              .put("upd", a[1] - b[1])
              .put("del", a[2] - b[2]);
      total += row.path("ins").asLong() + row.path("upd").asLong() + row.path("del").asLong();
    }
    t.put("total", total);
    out.put("pg_tuples_per_task", ratio(total, tasks)).put("pg_tuples_per_job", ratio(total, jobs));
    if (after.statements() < 0) {
      out.putNull("pg_statements");
    } else {
      long s = after.statements() - before.statements();
      out.put("pg_statements", s)
          .put("pg_statements_per_task", ratio(s, tasks))
          .put("pg_statements_per_job", ratio(s, jobs));
    }
  }

  static double ratio(long count, long per) {
    return per <= 0 ? -1 : Math.round(count * 1000.0 / per) / 1000.0;
  }
}
