package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.queue.FanIn;
import io.sluice.redis.LuaScript;
import io.sluice.redis.RedisKeys;
import io.sluice.store.ClaimedTask;
import io.sluice.store.Completion;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import io.sluice.store.TaskStatus;
import io.sluice.testing.StoredJobs;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.CompletionWriter.Done;
import io.sluice.worker.redis.JedisTaskQueue;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.resps.StreamEntry;

/**
 * The fan-in of G3 with real writers against real PostgreSQL and Redis: many tasks of one job
 * completing at the same instant, each through its own {@link CompletionWriter}, lose no completion
 * and signal the collector exactly once; a completion delivered twice is counted once.
 */
@ExtendWith(SluiceTestExtension.class)
class FanInRaceIT {
  private static final int TASKS = 16;
  private static final int REPETITIONS = 300;
  private static final String QUEUE = "default";
  private static final Duration LEASE = Duration.ofSeconds(60);

  private static Database db;
  private static JedisTaskQueue queue;
  private static JedisPooled jedis;
  private static RedisKeys keys;

  private final PostgresJobStore jobs = new PostgresJobStore();
  private final PostgresTaskStore tasks = new PostgresTaskStore();

  @BeforeAll
  static void connect(TestEnvironment env) {
    db =
        new Database(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), TASKS + 4), "test");
    db.migrate();
    queue = new JedisTaskQueue(RedisConfig.parse(env.redisUrl(), env.redisPrefix()), TASKS + 4);
    jedis = new JedisPooled(URI.create(env.redisUrl()));
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  static void close() {
    jedis.close();
    queue.close();
    db.close();
  }

  @Test
  void manyTasksOfOneJobCompletingAtOnceFireTheCollectorOnceAndLoseNoCompletion() throws Exception {
    List<CompletionWriter> writers = IntStream.range(0, TASKS).mapToObj(i -> newWriter()).toList();
    ExecutorService threads = Executors.newFixedThreadPool(TASKS);
    try {
      for (int rep = 0; rep < REPETITIONS; rep++) {
        UUID jobId = createRunningJob(TASKS);
        initFanIn(jobId, TASKS);
        List<ClaimedTask> claims = claimEachAsItsOwnWorker(jobId, TASKS);

        runTogether(
            threads, TASKS, i -> () -> writers.get(i).write(List.of(succeeded(claims.get(i)))));

        Job job = job(jobId);
        assertThat(job.tasksSucceeded()).as("repetition %d: succeeded", rep).isEqualTo(TASKS);
        assertThat(job.tasksFailed()).as("repetition %d: failed", rep).isZero();
        assertThat(remaining(jobId)).as("repetition %d: remaining", rep).isEqualTo("0");
        assertThat(jedis.bitcount(keys.counted(jobId))).isEqualTo(TASKS);
        assertThat(collectSignals(jobId)).as("repetition %d: collect signals", rep).isEqualTo(1);
      }
      assertThat(jedis.xlen(keys.collectStream())).isEqualTo(REPETITIONS);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void aRedeliveredCompletionIsCountedOnce() throws Exception {
    int writersAtOnce = 8;
    List<CompletionWriter> writers =
        IntStream.range(0, writersAtOnce).mapToObj(i -> newWriter()).toList();
    ExecutorService threads = Executors.newFixedThreadPool(writersAtOnce);
    try {
      UUID jobId = createRunningJob(2);
      initFanIn(jobId, 2);
      List<ClaimedTask> claims = claimEachAsItsOwnWorker(jobId, 2);
      Done first = succeeded(claims.get(0));

      // The same completion from several writers at once: PostgreSQL's fence applies one of them.
      runTogether(threads, writersAtOnce, i -> () -> writers.get(i).write(List.of(first)));
      assertThat(job(jobId).tasksSucceeded()).isEqualTo(1);

      // The fence stops a repeated commit before Redis, so drive what reaches fanin.lua again for
      // the committed task: the acknowledgement pipeline replayed (its reply lost, a writer
      // retrying after a Redis error, a redelivery acknowledged as finished), from several
      // writers at once and once more afterwards.
      Map<String, List<String>> entries = Map.of(QUEUE, List.of(first.entryId()));
      Map<UUID, List<Integer>> finished = Map.of(jobId, List.of(0));
      List<Map<UUID, FanIn>> replies =
          callTogether(threads, writersAtOnce, i -> () -> queue.acknowledge(entries, finished));
      replies.add(queue.acknowledge(entries, finished));

      assertThat(replies)
          .as("every repeat sees one task left and none crosses zero")
          .allSatisfy(r -> assertThat(r.get(jobId)).isEqualTo(new FanIn(1, false)));
      assertThat(remaining(jobId)).isEqualTo("1");
      assertThat(collectSignals(jobId)).isZero();

      writers.get(1).write(List.of(succeeded(claims.get(1))));
      assertThat(job(jobId).tasksSucceeded()).isEqualTo(2);
      assertThat(remaining(jobId)).isEqualTo("0");
      assertThat(collectSignals(jobId)).isEqualTo(1);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void theFanInScriptCountsATaskOnceHoweverOftenItIsReported() throws Exception {
    int callers = 8;
    ExecutorService threads = Executors.newFixedThreadPool(callers);
    try {
      UUID jobId = UUID.randomUUID();
      initFanIn(jobId, 3);

      List<List<Long>> replies = callTogether(threads, callers, i -> () -> fanIn(jobId, "1"));
      assertThat(replies).containsOnly(List.of(2L, 0L));
      assertThat(remaining(jobId)).isEqualTo("2");

      assertThat(fanIn(jobId, "0", "1", "2"))
          .as("the call that reaches zero")
          .containsExactly(0L, 1L);
      assertThat(fanIn(jobId, "0", "1", "2")).as("a repeat of it").containsExactly(0L, 0L);
      assertThat(fanIn(jobId, "2")).containsExactly(0L, 0L);
      assertThat(remaining(jobId)).isEqualTo("0");
    } finally {
      threads.shutdownNow();
    }
  }

  // --- helpers ---

  private static CompletionWriter newWriter() {
    return new CompletionWriter(db, queue, new InFlight(), new SimpleMeterRegistry());
  }

  /** Runs {@code n} calls on {@code n} threads released together; returns their results. */
  private static <T> List<T> callTogether(
      ExecutorService threads, int n, IntFunction<Callable<T>> call) throws Exception {
    CyclicBarrier start = new CyclicBarrier(n);
    List<Future<T>> futures = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Callable<T> work = call.apply(i);
      futures.add(
          threads.submit(
              () -> {
                start.await(10, TimeUnit.SECONDS);
                return work.call();
              }));
    }
    List<T> results = new ArrayList<>(n);
    for (Future<T> f : futures) {
      results.add(f.get(30, TimeUnit.SECONDS));
    }
    return results;
  }

  private static void runTogether(ExecutorService threads, int n, IntFunction<Runnable> action)
      throws Exception {
    callTogether(
        threads,
        n,
        i -> {
          Runnable r = action.apply(i);
          return () -> {
            r.run();
            return null;
          };
        });
  }

  private UUID createRunningJob(int taskCount) {
    return new StoredJobs(db).running(aJob().withQueue(QUEUE).withTasks(taskCount));
  }

  private List<ClaimedTask> claimEachAsItsOwnWorker(UUID jobId, int taskCount) {
    return db.inTransaction(
        c -> {
          List<ClaimedTask> claims = new ArrayList<>(taskCount);
          for (int seq = 0; seq < taskCount; seq++) {
            List<ClaimedTask> claimed =
                tasks.claim(c, "worker-" + seq, LEASE, List.of(new TaskRef(jobId, seq)));
            assertThat(claimed).hasSize(1);
            claims.add(claimed.get(0));
          }
          return claims;
        });
  }

  /**
   * A fake stream entry id: acknowledging an id the stream never had is a no-op (XACK/XDEL → 0).
   */
  private static Done succeeded(ClaimedTask claim) {
    var completion =
        new Completion(
            claim.jobId(),
            claim.seq(),
            claim.leaseEpoch(),
            TaskStatus.SUCCEEDED,
            "{\"seq\":" + claim.seq() + "}",
            null,
            0);
    return new Done(completion, QUEUE, "0-" + (claim.seq() + 1));
  }

  private static void initFanIn(UUID jobId, int remaining) {
    Object created =
        jedis.eval(
            LuaScript.FANIN_INIT.source(),
            List.of(keys.remaining(jobId), keys.counted(jobId), keys.countedStaging(jobId)),
            List.of(String.valueOf(remaining)));
    assertThat(created).isEqualTo(1L);
  }

  @SuppressWarnings("unchecked")
  private static List<Long> fanIn(UUID jobId, String... seqs) {
    return (List<Long>)
        jedis.eval(
            LuaScript.FANIN.source(),
            List.of(keys.remaining(jobId), keys.counted(jobId)),
            List.of(seqs));
  }

  private static String remaining(UUID jobId) {
    return jedis.get(keys.remaining(jobId));
  }

  private static long collectSignals(UUID jobId) {
    List<StreamEntry> entries = jedis.xrange(keys.collectStream(), "-", "+");
    return entries.stream().filter(e -> jobId.toString().equals(e.getFields().get("j"))).count();
  }

  private Job job(UUID id) {
    return db.query(c -> jobs.find(c, id)).orElseThrow();
  }
}
