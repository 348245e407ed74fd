package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresScheduleFires;
import io.sluice.store.PostgresScheduleStore;
import io.sluice.store.Schedule;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The worst case of a fire: several coordinators that all believe they lead (a split brain the
 * fence would normally prevent) run their firing pass at the same instant over the same due
 * schedules, round after round. The due rows' lock keeps them apart and the unique (schedule, fire
 * time) index would stop a second fire even without it: each fire time has one fire row and one
 * job, and no firer's transaction fails.
 */
@ExtendWith(SluiceTestExtension.class)
class ScheduleFireRaceIT {
  private static final int FIRERS = 4;
  private static final int SCHEDULES = 20;
  private static final int ROUNDS = 40;

  private static Database db;
  private final PostgresScheduleStore store = new PostgresScheduleStore();

  @BeforeAll
  static void connect(TestEnvironment env) {
    db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 2 * FIRERS), "race");
    db.migrate();
  }

  @AfterAll
  static void close() {
    db.close();
  }

  /** A leader that always believes it leads, writing with no fence: the split brain. */
  private static FencedLeader splitBrain(long epoch) {
    return new FencedLeader() {
      @Override
      public boolean isLeader() {
        return true;
      }

      @Override
      public long epoch() {
        return epoch;
      }

      @Override
      public <T> T fenced(Database.TxWork<T> work) {
        return db.inTransaction(work);
      }
    };
  }

  private static ScheduleFirer firer(long epoch) {
    // Storing needs no dispatcher, admission or group commit; the jobs stay QUEUED, uncounted by
    // anything but this test.
    JobSubmitter submitter =
        new JobSubmitter(db, new PostgresJobStore(), JobTypeRegistry.load(), null, null, null, 1);
    return new ScheduleFirer(
        new ScheduleFirer.Parts(
            submitter, splitBrain(epoch), job -> {}, id -> {}, new SimpleMeterRegistry()));
  }

  @Test
  void firersRacingOverTheSameDueSchedulesFireEachTimeOnceWithOneJob() throws Exception {
    String tenant = "race-" + UUID.randomUUID();
    for (int i = 0; i < SCHEDULES; i++) {
      Schedule s =
          new Schedule(
              UUID.randomUUID(),
              tenant,
              "s" + i,
              null,
              Duration.ofHours(1),
              "UTC",
              Json.read("{\"type\":\"noop\",\"payload\":{\"tasks\":2}}"),
              "allow",
              "none",
              false,
              1,
              Instant.now().plusSeconds(3600),
              null,
              null,
              0,
              0);
      db.inTransaction(c -> store.insert(c, s));
    }
    List<ScheduleFirer> firers = new ArrayList<>();
    for (int f = 0; f < FIRERS; f++) {
      firers.add(firer(f + 1));
    }
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    for (int round = 0; round < ROUNDS; round++) {
      // Due now, at a fire time of its own: each round is a new fire time of every schedule.
      db.inTransaction(
          c ->
              c.prepareStatement(
                      "UPDATE schedules SET next_fire_at = clock_timestamp() - interval '1 ms'"
                          + " WHERE tenant = '"
                          + tenant
                          + "'")
                  .executeUpdate());
      CyclicBarrier start = new CyclicBarrier(FIRERS);
      List<Thread> threads = new ArrayList<>();
      for (ScheduleFirer firer : firers) {
        threads.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      try {
                        start.await();
                        firer.fireBatch();
                      } catch (Throwable t) {
                        failures.add(t);
                      }
                    }));
      }
      for (Thread t : threads) {
        t.join();
      }
    }

    assertThat(failures).as("firers whose transaction failed").isEmpty();
    long[] counts =
        db.query(
            c -> {
              ResultSet rs =
                  c.createStatement()
                      .executeQuery(
                          "SELECT (SELECT count(*) FROM schedule_fires f JOIN schedules s"
                              + " ON s.id = f.schedule_id WHERE s.tenant = '"
                              + tenant
                              + "'),"
                              + " (SELECT count(DISTINCT (f.schedule_id, f.fire_time))"
                              + " FROM schedule_fires f JOIN schedules s ON s.id = f.schedule_id"
                              + " WHERE s.tenant = '"
                              + tenant
                              + "'),"
                              + " (SELECT count(*) FROM jobs WHERE tenant = '"
                              + tenant
                              + "'),"
                              + " (SELECT sum(fires) FROM schedules WHERE tenant = '"
                              + tenant
                              + "')");
              rs.next();
              return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)};
            });
    assertThat(counts[1]).as("distinct fire times").isEqualTo((long) ROUNDS * SCHEDULES);
    assertThat(counts[0]).as("fire rows").isEqualTo(counts[1]);
    assertThat(counts[2]).as("jobs").isEqualTo(counts[1]);
    assertThat(counts[3]).as("fires counted on the schedules").isEqualTo(counts[1]);
  }

  @Test
  void firesOlderThanTheHistoryArePrunedABatchAtATimeAndNewerOnesStay() throws Exception {
    String tenant = "prune-" + UUID.randomUUID();
    Schedule s =
        new Schedule(
            UUID.randomUUID(),
            tenant,
            "old",
            null,
            Duration.ofHours(1),
            "UTC",
            Json.read("{\"type\":\"noop\",\"payload\":{\"tasks\":1}}"),
            "allow",
            "none",
            true,
            1,
            Instant.now().plusSeconds(3600),
            null,
            null,
            0,
            0);
    db.inTransaction(c -> store.insert(c, s));
    db.inTransaction(
        c ->
            c.prepareStatement(
                    "INSERT INTO schedule_fires (schedule_id, fire_time, outcome, epoch, fired_at)"
                        + " SELECT '"
                        + s.id()
                        + "', now() - g * interval '1 hour', 'skipped', 1,"
                        + " now() - (g - 0.5) * interval '1 hour' FROM generate_series(1, 300) g")
                .executeUpdate());
    PostgresScheduleFires fires = new PostgresScheduleFires();

    // 300 fires 0.5 h, 1.5 h, … 299.5 h old: the 132 older than 7 days (168.5 h on) go, 100 at a
    // time.
    int first = db.inTransaction(c -> fires.pruneFires(c, ScheduleFirer.FIRE_HISTORY, 100));
    int second = db.inTransaction(c -> fires.pruneFires(c, ScheduleFirer.FIRE_HISTORY, 100));
    int third = db.inTransaction(c -> fires.pruneFires(c, ScheduleFirer.FIRE_HISTORY, 100));

    assertThat(List.of(first, second, third)).containsExactly(100, 32, 0);
    long left =
        db.query(
            c -> {
              ResultSet rs =
                  c.createStatement()
                      .executeQuery(
                          "SELECT count(*) FROM schedule_fires WHERE schedule_id = '"
                              + s.id()
                              + "'");
              rs.next();
              return rs.getLong(1);
            });
    assertThat(left).isEqualTo(168);
  }
}
