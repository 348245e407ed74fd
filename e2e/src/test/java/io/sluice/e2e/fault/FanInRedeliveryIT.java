package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import io.sluice.redis.LuaScript;
import io.sluice.redis.RedisKeys;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import redis.clients.jedis.Jedis;

/**
 * G3's fan-in trigger path after a worker dies between committing completions and acknowledging
 * them, with the sweeper's collect repair out of reach (its grace is far beyond the test): only the
 * fan-in counter reaching zero collects the job. The dead worker's entries are redelivered, the
 * claim fence keeps their tasks from running again, and the worker that got them counts them
 * through {@code fanin.lua}, whose bitmap counts each task once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FanInRedeliveryIT {
  private static final String TEXT = Corpus.text(2_400, 11);
  private static final long WORDS = FaultHarness.countWords(TEXT);
  private static final RedisKeys KEYS = new RedisKeys("sluice");

  private FaultHarness harness;

  @BeforeAll
  void start() throws Exception {
    harness = new FaultHarness(Duration.ofMinutes(30));
  }

  @AfterAll
  void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @BeforeEach
  void freshWorkers() {
    harness.stopWorkers();
  }

  @Test
  void aWorkerKilledAfterCommittingAndBeforeAcknowledgingHasItsTasksCountedByTheRedelivery()
      throws Exception {
    String id = killAWorkerBetweenCommitAndAcknowledgement();
    assertThat(uncounted(id))
        .as("committed, never counted: the dead worker's last batch")
        .isNotEmpty();
    harness.startWorker();

    assertCollectedExactly(id);
  }

  /**
   * One task is held back until the redeliveries are through, so they arrive while the job is still
   * one task short: the fan-in counter must then say exactly one task remains, and reach zero (and
   * collect the job) only with that task.
   */
  @Test
  void aRedeliveryOfTasksTheDeadWorkerHadAlreadyCountedIsCountedOnce() throws Exception {
    int tasks = 20;
    int held = tasks - 1;
    Path gate = harness.dir.resolve("gate-" + System.nanoTime());
    String id = killAWorkerBetweenCommitAndAcknowledgement(stepsBody(tasks, gate, held));
    UUID job = UUID.fromString(id);
    List<Integer> uncounted = uncounted(id);
    assertThat(uncounted).isNotEmpty();
    // The dead worker's fan-in reached Redis, its acknowledgement did not (the window a pipeline
    // cut short leaves): its entries are redelivered for tasks already counted.
    try (Jedis jedis = jedis()) {
      jedis.eval(
          LuaScript.FANIN.source(),
          List.of(KEYS.remaining(job), KEYS.counted(job)),
          uncounted.stream().map(String::valueOf).toList());
    }
    assertThat(uncounted(id)).isEmpty();
    harness.startWorker(harness.workerEnv("rescuer"));

    // Every task but the held one committed, and every other entry (the redeliveries too)
    // acknowledged: what is left in the stream is the held task's delivery.
    Awaitility.await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                harness.tasksFinished(id) == tasks - 1
                    && streamLength() == 1
                    && harness.scalar(
                            "SELECT count(*) FROM tasks WHERE job_id = '"
                                + id
                                + "' AND seq = "
                                + held
                                + " AND status = 'RUNNING' AND worker_id = 'rescuer'")
                        == 1);
    try (Jedis jedis = jedis()) {
      assertThat(jedis.get(KEYS.remaining(job)))
          .as("each task counted once: only the held task remains")
          .isEqualTo("1");
    }
    Files.createFile(gate);

    JsonNode done = harness.awaitTerminal(id, Duration.ofSeconds(60));
    harness.assertExactlyOnce(id, done);
    assertThat(done.get("result").get("totalSteps").asLong()).isEqualTo(tasks);
  }

  private String killAWorkerBetweenCommitAndAcknowledgement() throws Exception {
    return killAWorkerBetweenCommitAndAcknowledgement(FaultHarness.wordcountBody(TEXT, 10, 20));
  }

  private String killAWorkerBetweenCommitAndAcknowledgement(String body) throws Exception {
    Map<String, String> env = harness.workerEnv("dies-after-commit-" + System.nanoTime());
    env.put("SLUICE_FAULT_HALT_AFTER_COMMITS", "3");
    ChildJvm doomed = harness.startWorker(env);
    String id = harness.submit(body);
    assertThat(doomed.waitFor(Duration.ofSeconds(60)))
        .as("the worker halted after its third commit: %s", lazyDiagnosis(id))
        .hasValue(137);
    harness.workers.remove(doomed);
    return id;
  }

  /** Tasks whose success is committed in PostgreSQL but not counted in the fan-in bitmap. */
  private List<Integer> uncounted(String id) throws Exception {
    List<Integer> seqs = new ArrayList<>();
    UUID job = UUID.fromString(id);
    try (Connection c = harness.postgres.connect(FaultHarness.DATABASE);
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT seq FROM tasks WHERE job_id = '"
                        + id
                        + "' AND status = 'SUCCEEDED' ORDER BY seq");
        Jedis jedis = jedis()) {
      while (rs.next()) {
        if (!jedis.getbit(KEYS.counted(job), rs.getInt(1))) {
          seqs.add(rs.getInt(1));
        }
      }
    }
    return seqs;
  }

  private void assertCollectedExactly(String id) throws Exception {
    JsonNode job = harness.awaitTerminal(id, Duration.ofSeconds(120));
    harness.assertExactlyOnce(id, job);
    assertThat(job.get("result").get("totalWords").asLong()).isEqualTo(WORDS);
  }

  private static String stepsBody(int tasks, Path gate, int gateSeq) {
    var body = Json.object().put("type", "steps");
    body.putObject("payload")
        .put("tasks", tasks)
        .put("steps", 1)
        .put("stepMs", 100)
        .put("gate", gate.toString())
        .put("gateSeq", gateSeq);
    return Json.write(body);
  }

  private Object lazyDiagnosis(String id) {
    return new Object() {
      @Override
      public String toString() {
        return harness.diagnose(id);
      }
    };
  }

  private long streamLength() {
    try (Jedis jedis = jedis()) {
      return jedis.xlen(KEYS.readyStream("default"));
    }
  }

  private Jedis jedis() {
    return new Jedis(URI.create(harness.redis.url()));
  }
}
