package io.sluice.worker;

import static io.sluice.testing.NewJobBuilder.aJob;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.store.Database;
import io.sluice.store.TaskRef;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.redis.JedisTaskQueue;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;

/**
 * A worker reading several queues with few slots (issue 11): its free slots go to whichever queues
 * have work, round-robin among them, and a slot never waits on an empty queue while another queue
 * has entries.
 */
@ExtendWith(SluiceTestExtension.class)
class FetchFairnessIT {
  private static final int SLOTS = 2;

  private static TestEnvironment env;
  private static Database db;
  private static JedisTaskQueue queue;
  private static TestJobs jobs;

  @BeforeAll
  static void connect(TestEnvironment environment) {
    env = environment;
    db = new Database(new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 4), "test");
    db.migrate();
    queue = new JedisTaskQueue(RedisConfig.parse(env.redisUrl(), env.redisPrefix()), 4);
    jobs = new TestJobs(db, queue);
  }

  @AfterAll
  static void close() {
    queue.close();
    db.close();
  }

  @BeforeEach
  void clearLog() {
    StartLogJobType.reset();
  }

  @Test
  void idleQueuesBesideABusyOneNeverMakeTheWorkerWait() {
    List<String> queues = queues("idle");
    int tasks = 60;
    UUID job = job(queues.get(0), tasks);

    try (Worker worker = start(queues)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> started(job) == tasks);
      double waits = WorkerHarness.metric(worker, "sluice_worker_fetch_waits_total");
      // Every task was queued before the worker started: any wait before the last one started was
      // a wait while work was pending. Once the queue is empty, a wait begins about every second.
      assertThat(waits)
          .as("blocking reads; only once the busy queue is empty")
          .isLessThanOrEqualTo(2);
    }
  }

  @Test
  void twoFloodedQueuesShareTheSlotsEvenlyAndNoReadWaitsOnTheIdleOnes() throws Exception {
    List<String> queues = queues("flood");
    int tasks = 100;
    UUID first = job(queues.get(0), tasks);
    UUID second = job(queues.get(1), tasks);
    WorkerConfig config = config(queues);
    int window = 60;
    int blockedSamples = 0;
    try (Worker worker = Worker.start(config);
        Jedis redis = new Jedis(URI.create(env.redisUrl()))) {
      // Both floods keep entries queued throughout the window: a connection of the worker blocked
      // in a read is a slot waiting on an idle queue while others have work.
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (StartLogJobType.started().size() < window && System.nanoTime() < deadline) {
        if (blockedRead(redis, "sluice-worker-" + config.workerId())) {
          blockedSamples++;
        }
        Thread.sleep(5);
      }
    }
    assertThat(blockedSamples).as("samples with the worker blocked in a read").isZero();
    List<TaskRef> starts = StartLogJobType.started();
    assertThat(starts).hasSizeGreaterThanOrEqualTo(window);
    starts = starts.subList(0, window);
    long ofFirst = starts.stream().filter(t -> t.jobId().equals(first)).count();
    long ofSecond = starts.stream().filter(t -> t.jobId().equals(second)).count();
    assertThat(ofFirst + ofSecond).isEqualTo(window);
    assertThat(ofFirst)
        .as("starts of the first flooded queue among the first %d: %s", window, starts)
        .isBetween(window * 40L / 100, window * 60L / 100);
  }

  @Test
  void aTaskOnAnIdleQueueStartsBeforeTheBusyBacklogsDrain() {
    List<String> queues = queues("late");
    int tasks = 150;
    job(queues.get(0), tasks);
    job(queues.get(1), tasks);

    try (Worker worker = start(queues)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> StartLogJobType.started().size() >= 20);
      int before = StartLogJobType.started().size();
      UUID late = job(queues.get(2), 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> started(late) == 1);
      List<TaskRef> starts = StartLogJobType.started();
      int at = starts.indexOf(new TaskRef(late, 0));
      // Round-robin over three queues with work: a few rounds, not the 280 tasks still queued.
      assertThat(at - before)
          .as("starts between its enqueue and its own start")
          .isLessThanOrEqualTo(3 * queues.size());
    }
  }

  /** Four queues, named for the test so no test reads another's. */
  private static List<String> queues(String name) {
    return List.of(name + "-a", name + "-b", name + "-c", name + "-d");
  }

  private static UUID job(String queueName, int tasks) {
    UUID id =
        jobs.createRunningJob(
            aJob().withType(StartLogJobType.NAME).withQueue(queueName).withTasks(tasks));
    jobs.enqueue(queueName, id, tasks);
    return id;
  }

  private static Worker start(List<String> queues) {
    return Worker.start(config(queues));
  }

  private static WorkerConfig config(List<String> queues) {
    return WorkerHarness.config(env, queues.get(0), SLOTS, 10, Duration.ofSeconds(30)).toBuilder()
        .queues(queues)
        .build();
  }

  /** Whether a connection named {@code name} is blocked in a command (CLIENT LIST flag b). */
  private static boolean blockedRead(Jedis redis, String name) {
    for (String line : redis.clientList().split("\n")) {
      if (line.contains(" name=" + name + " ")) {
        for (String field : line.split(" ")) {
          if (field.startsWith("flags=") && field.contains("b")) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static long started(UUID job) {
    return StartLogJobType.started().stream().filter(t -> t.jobId().equals(job)).count();
  }
}
