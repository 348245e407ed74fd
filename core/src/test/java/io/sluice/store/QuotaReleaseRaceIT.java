package io.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The race between a submission taking a quota place and a finishing job giving one back, now that
 * they write different rows (migration V18: the finish goes to a release counter, the submission
 * folds the counters into the usage row). Submitters and finishers of one tenant run at once over
 * many connections, so releases land on several counters and folds read them mid-flight: at no
 * moment are more jobs active than the quota, and once all is committed the counted figure is the
 * true one.
 */
@ExtendWith(SluiceTestExtension.class)
class QuotaReleaseRaceIT {
  private static final int QUOTA = 5;
  private static final int SUBMITTERS = 6;
  private static final int FINISHERS = 4;
  private static final int TAKES = 400;
  private static Database db;
  private final PostgresTenantQuota quotas = new PostgresTenantQuota();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 12), "quota-race");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @RepeatedTest(3)
  void submissionsRacingFinishesNeverExceedTheQuotaAndTheCountEndsExact() throws Exception {
    String tenant = "q-" + UUID.randomUUID().toString().substring(0, 8);
    ConcurrentLinkedQueue<UUID> active = new ConcurrentLinkedQueue<>();
    AtomicInteger taken = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    AtomicLong worst = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    CyclicBarrier start = new CyclicBarrier(SUBMITTERS + FINISHERS + 1);
    // Bounded: a quota that never frees a place ends the run here instead of spinning.
    long deadline = System.nanoTime() + 60_000_000_000L;
    List<Future<?>> running = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(SUBMITTERS + FINISHERS + 1)) {
      for (int i = 0; i < SUBMITTERS; i++) {
        running.add(
            pool.submit(
                () -> {
                  start.await();
                  while (taken.get() < TAKES && System.nanoTime() < deadline) {
                    UUID id = UUID.randomUUID();
                    boolean ok =
                        db.inTransaction(
                            c -> {
                              insertQueued(c, id, tenant);
                              if (quotas.tryTake(c, tenant, QUOTA)) {
                                return true;
                              }
                              c.rollback();
                              return false;
                            });
                    if (ok) {
                      taken.incrementAndGet();
                      active.add(id);
                    } else {
                      refused.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (int i = 0; i < FINISHERS; i++) {
        running.add(
            pool.submit(
                () -> {
                  start.await();
                  while (!done.get() || !active.isEmpty()) {
                    UUID id = active.poll();
                    if (id == null) {
                      Thread.onSpinWait();
                      continue;
                    }
                    db.inTransaction(c -> finish(c, id));
                    finished.incrementAndGet();
                  }
                  return null;
                }));
      }
      // The watcher: the true number of active jobs, read again and again while the race runs.
      running.add(
          pool.submit(
              () -> {
                start.await();
                while (!done.get()) {
                  long now =
                      db.inTransaction(
                          c ->
                              count(
                                  c,
                                  "SELECT count(*) FROM jobs WHERE tenant = ?"
                                      + " AND status IN ('QUEUED', 'RUNNING')",
                                  tenant));
                  worst.accumulateAndGet(now, Math::max);
                }
                return null;
              }));
      for (int i = 0; i < SUBMITTERS; i++) {
        running.get(i).get();
      }
      done.set(true);
      for (Future<?> f : running) {
        f.get();
      }
    }

    assertThat(taken.get()).isGreaterThanOrEqualTo(TAKES);
    assertThat(refused.get()).as("the quota was reached and held").isPositive();
    assertThat(finished.get()).isEqualTo(taken.get());
    assertThat(worst.get()).as("most active jobs seen at once").isLessThanOrEqualTo(QUOTA);
    long distinctCounters =
        db.inTransaction(
            c -> count(c, "SELECT count(*) FROM tenant_usage_released WHERE tenant = ?", tenant));
    assertThat(distinctCounters).as("releases spread over several counters").isGreaterThan(1);
    long counted =
        db.inTransaction(
            c -> count(c, "SELECT active_jobs FROM tenant_active_jobs WHERE tenant = ?", tenant));
    assertThat(counted).as("counted active jobs once everything committed").isZero();
    // And the next take folds every release: the usage row itself is exact again.
    UUID last = UUID.randomUUID();
    assertThat(
            (boolean)
                db.inTransaction(
                    c -> {
                      insertQueued(c, last, tenant);
                      return quotas.tryTake(c, tenant, QUOTA);
                    }))
        .isTrue();
    assertThat(
            (long)
                db.inTransaction(
                    c -> count(c, "SELECT active_jobs FROM tenant_usage WHERE tenant = ?", tenant)))
        .isEqualTo(1);
  }

  private static void insertQueued(Connection c, UUID id, String tenant) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            """
            INSERT INTO jobs (id, tenant, type, queue, status, payload, request_hash,
                              max_attempts, on_task_failure, task_count)
            VALUES (?, ?, 'noop', 'default', 'QUEUED', '{}', 'h', 3, 'fail', 1)
            """)) {
      ps.setObject(1, id);
      ps.setString(2, tenant);
      ps.executeUpdate();
    }
  }

  private static Void finish(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE jobs SET status = 'SUCCEEDED', finished_at = now() WHERE id = ?")) {
      ps.setObject(1, id);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    return null;
  }

  private static long count(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }
}
