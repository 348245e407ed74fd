package io.sluice.store;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.DatabaseConfig;
import io.sluice.json.Json;
import io.sluice.store.PostgresCollectAttempts.Gate;
import io.sluice.store.PostgresCollectAttempts.Opened;
import io.sluice.store.PostgresCollectAttempts.Retry;
import io.sluice.store.PostgresCollectInput.Input;
import io.sluice.store.PostgresJobStore.CountDelta;
import io.sluice.store.PostgresJobTransitions.CollectionEnd;
import io.sluice.testing.JobRows;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The statements of a batched collection against a real PostgreSQL: the gate of many jobs opens
 * exactly those ready (or stale) and writes one COLLECTING event each; the commit of many moves
 * each job fenced by its own gate's version, so a stale one is left alone while the others move;
 * the heartbeat and retry of many answer which gates still hold; the small inputs come in one
 * query. Two gates of the same batch at once, in opposite orders, open each job once.
 */
@ExtendWith(SluiceTestExtension.class)
class PostgresCollectBatchIT {
  private static final Duration GRACE = Duration.ofSeconds(60);
  private static final int RACES = 50;

  private static Database db;
  private static StoredJobs stored;
  private static final PostgresCollectAttempts attempts = new PostgresCollectAttempts();
  private static final PostgresJobTransitions transitions = new PostgresJobTransitions();
  private static final PostgresCollectInput input = new PostgresCollectInput();
  private static final PostgresJobStore jobs = new PostgresJobStore();
  private static final JobRows rows = new JobRows();

  @BeforeAll
  static void migrate(TestEnvironment env) {
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    stored = new StoredJobs(db);
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @Test
  void theGateOfManyOpensOnlyTheReadyAndTheStaleOnceEach() {
    UUID ready1 = finished(2);
    UUID ready2 = finished(1);
    UUID early = stored.running(aJob().withTasks(2));
    UUID done = finished(1);
    Gate doneGate = openOne(done);
    db.inTransaction(c -> transitions.collected(c, done, doneGate.version(), "{}"));
    UUID alive = finished(1);
    openOne(alive);
    UUID stale = finished(1);
    Gate staleGate = openOne(stale);
    db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE jobs SET updated_at = now() - interval '10 minutes',"
                      + " collect_error = 'boom' WHERE id = ?")) {
            ps.setObject(1, stale);
            return ps.executeUpdate();
          }
        });

    List<Opened> opened =
        db.inTransaction(
            c ->
                attempts.openAll(
                    c, List.of(ready1, early, ready2, done, alive, stale, ready1), GRACE));

    Map<UUID, Opened> byId = opened.stream().collect(Collectors.toMap(Opened::jobId, o -> o));
    assertThat(byId.keySet()).containsExactlyInAnyOrder(ready1, ready2, stale);
    assertThat(opened).hasSize(3);
    assertThat(byId.get(ready1).gate().attempt()).isEqualTo(1);
    assertThat(byId.get(ready1).gate().lastError()).isNull();
    assertThat(byId.get(ready1).taskCount()).isEqualTo(2);
    assertThat(byId.get(ready1).parentId()).isNull();
    assertThat(byId.get(ready1).gate().version()).isEqualTo(rows.snapshot(db, ready1).version());
    assertThat(rows.snapshot(db, ready1).status()).isEqualTo(JobStatus.COLLECTING);
    assertThat(events(ready1, "COLLECTING")).isEqualTo(1);
    // The takeover: the version moves on, the start is counted, the last error kept, no event.
    assertThat(byId.get(stale).gate().version()).isEqualTo(staleGate.version() + 1);
    assertThat(byId.get(stale).gate().attempt()).isEqualTo(2);
    assertThat(byId.get(stale).gate().lastError()).isEqualTo("boom");
    assertThat(events(stale, "COLLECTING")).isEqualTo(1);
    assertThat(rows.snapshot(db, early).status()).isEqualTo(JobStatus.RUNNING);
    assertThat(rows.snapshot(db, done).status()).isEqualTo(JobStatus.SUCCEEDED);
  }

  @Test
  void theCommitOfManyMovesEachJobFencedByItsOwnGate() {
    UUID ok = finished(1);
    UUID failing = finished(1);
    UUID takenOver = finished(1);
    Map<UUID, Gate> gates = openAll(List.of(ok, failing, takenOver));
    // Another coordinator took one collection over meanwhile: its gate moved on.
    db.inTransaction(c -> attempts.takeOver(c, takenOver, Duration.ZERO)).orElseThrow();

    Map<UUID, Long> moved =
        db.inTransaction(
            c ->
                transitions.collectionsEnded(
                    c,
                    List.of(
                        new CollectionEnd(
                            ok, gates.get(ok).version(), JobStatus.SUCCEEDED, "{\"n\":1}", null),
                        new CollectionEnd(
                            failing,
                            gates.get(failing).version(),
                            JobStatus.FAILED,
                            null,
                            "collector failed: no"),
                        new CollectionEnd(
                            takenOver,
                            gates.get(takenOver).version(),
                            JobStatus.SUCCEEDED,
                            "{\"n\":2}",
                            null))));

    assertThat(moved.keySet()).containsExactlyInAnyOrder(ok, failing);
    Job okJob = job(ok);
    assertThat(okJob.status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(okJob.result()).isEqualTo(Json.read("{\"n\":1}"));
    assertThat(okJob.finishedAt()).isNotNull();
    assertThat(okJob.version()).isEqualTo(moved.get(ok));
    assertThat(rows.lastEvent(db, ok))
        .isEqualTo(new JobRows.Event("STATUS", moved.get(ok), "COLLECTING", "SUCCEEDED"));
    Job failed = job(failing);
    assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
    assertThat(failed.error()).isEqualTo("collector failed: no");
    assertThat(eventDetail(failing, "FAILED")).isEqualTo("{\"error\": \"collector failed: no\"}");
    Job other = job(takenOver);
    assertThat(other.status()).as("a missed fence writes nothing").isEqualTo(JobStatus.COLLECTING);
    assertThat(other.result()).isNull();
    assertThat(events(takenOver, "SUCCEEDED")).isZero();
  }

  @Test
  void theHeartbeatAndRetryOfManyAnswerWhichGatesStillHold() {
    UUID a = finished(1);
    UUID b = finished(1);
    Map<UUID, Gate> gates = openAll(List.of(a, b));
    db.inTransaction(c -> attempts.takeOver(c, b, Duration.ZERO)).orElseThrow();
    Map<UUID, Long> versions = Map.of(a, gates.get(a).version(), b, gates.get(b).version());

    Set<UUID> alive = db.inTransaction(c -> attempts.heartbeatAll(c, versions));
    Map<UUID, Gate> next =
        db.inTransaction(
            c ->
                attempts.retryAll(
                    c,
                    List.of(
                        new Retry(a, gates.get(a).version(), "first"),
                        new Retry(b, gates.get(b).version(), "second"))));

    assertThat(alive).containsExactly(a);
    assertThat(next).containsOnlyKeys(a);
    assertThat(next.get(a)).isEqualTo(new Gate(gates.get(a).version(), 2, "first"));
    assertThat(db.query(c -> jobs.find(c, a)).orElseThrow().version())
        .as("neither bumps the version: the gate's fence still holds")
        .isEqualTo(gates.get(a).version());
  }

  @Test
  void theSmallInputsOfManyJobsComeInOneQuery() {
    UUID two = finished(2);
    UUID one = finished(1);
    Map<UUID, Input> inputs = db.query(c -> input.readSmall(c, List.of(two, one)));
    assertThat(inputs).containsOnlyKeys(two, one);
    assertThat(inputs.get(two).type()).isEqualTo("noop");
    assertThat(inputs.get(two).payload().json().path("tasks").asInt()).isEqualTo(2);
    assertThat(inputs.get(two).outcomes()).extracting(o -> o.seq()).containsExactly(0, 1);
    assertThat(inputs.get(one).outcomes()).hasSize(1);
    assertThat(inputs.get(one).outcomes().get(0).succeeded()).isTrue();
  }

  @Test
  void twoGatesOfTheSameBatchAtOnceOpenEachJobOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int race = 0; race < RACES; race++) {
        List<UUID> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          batch.add(finished(1));
        }
        List<UUID> reversed = new ArrayList<>(batch);
        Collections.reverse(reversed);
        CyclicBarrier start = new CyclicBarrier(2);
        Future<List<Opened>> first =
            pool.submit(
                () -> {
                  start.await(10, TimeUnit.SECONDS);
                  return db.inTransaction(c -> attempts.openAll(c, batch, GRACE));
                });
        Future<List<Opened>> second =
            pool.submit(
                () -> {
                  start.await(10, TimeUnit.SECONDS);
                  return db.inTransaction(c -> attempts.openAll(c, reversed, GRACE));
                });
        List<UUID> opened = new ArrayList<>();
        first.get(30, TimeUnit.SECONDS).forEach(o -> opened.add(o.jobId()));
        second.get(30, TimeUnit.SECONDS).forEach(o -> opened.add(o.jobId()));
        assertThat(opened).as("race %d", race).containsExactlyInAnyOrderElementsOf(batch);
        for (UUID id : batch) {
          assertThat(events(id, "COLLECTING")).as("race %d", race).isEqualTo(1);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // --- helpers ---

  /** A RUNNING noop job whose tasks all succeeded, counted. */
  private static UUID finished(int tasks) {
    UUID id = stored.running(aJob().withTasks(tasks));
    db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE tasks SET status = 'SUCCEEDED', output = '{}' WHERE job_id = ?")) {
            ps.setObject(1, id);
            ps.executeUpdate();
          }
          return jobs.addCounts(c, List.of(new CountDelta(id, tasks, 0)));
        });
    return id;
  }

  private static Gate openOne(UUID id) {
    return db.inTransaction(c -> attempts.open(c, id, GRACE)).orElseThrow();
  }

  private static Map<UUID, Gate> openAll(List<UUID> ids) {
    List<Opened> opened = db.inTransaction(c -> attempts.openAll(c, ids, GRACE));
    assertThat(opened).hasSameSizeAs(ids);
    return opened.stream().collect(Collectors.toMap(Opened::jobId, Opened::gate));
  }

  private static Job job(UUID id) {
    return db.query(c -> jobs.find(c, id)).orElseThrow();
  }

  private static long events(UUID jobId, String toStatus) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FROM job_events WHERE job_id = ? AND to_status = ?")) {
            ps.setObject(1, jobId);
            ps.setString(2, toStatus);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  private static String eventDetail(UUID jobId, String toStatus) {
    return db.query(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT detail::text FROM job_events WHERE job_id = ? AND to_status = ?")) {
            ps.setObject(1, jobId);
            ps.setString(2, toStatus);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getString(1);
            }
          }
        });
  }
}
