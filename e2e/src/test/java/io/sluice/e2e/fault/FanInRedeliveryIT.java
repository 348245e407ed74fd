package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.redis.LuaScript;
import io.sluice.redis.RedisKeys;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

  @Test
  void aRedeliveryOfTasksTheDeadWorkerHadAlreadyCountedIsCountedOnce() throws Exception {
    String id = killAWorkerBetweenCommitAndAcknowledgement();
    List<Integer> uncounted = uncounted(id);
    assertThat(uncounted).isNotEmpty();
    // The dead worker's fan-in reached Redis, its acknowledgement did not (the window a pipeline
    // cut short leaves): its entries are redelivered for tasks already counted.
    try (Jedis jedis = jedis()) {
      UUID job = UUID.fromString(id);
      jedis.eval(
          LuaScript.FANIN.source(),
          List.of(KEYS.remaining(job), KEYS.counted(job)),
          uncounted.stream().map(String::valueOf).toList());
    }
    assertThat(uncounted(id)).isEmpty();
    harness.startWorker();

    assertCollectedExactly(id);
  }

  private String killAWorkerBetweenCommitAndAcknowledgement() throws Exception {
    Map<String, String> env = harness.workerEnv("dies-after-commit-" + System.nanoTime());
    env.put("SLUICE_FAULT_HALT_AFTER_COMMITS", "3");
    ChildJvm doomed = harness.startWorker(env);
    String id = harness.submit(FaultHarness.wordcountBody(TEXT, 10, 20));
    assertThat(doomed.waitFor(Duration.ofSeconds(60))).hasValue(137);
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

  private Jedis jedis() {
    return new Jedis(java.net.URI.create(harness.redis.url()));
  }
}
