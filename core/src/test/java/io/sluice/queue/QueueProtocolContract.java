package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.QueueRates;
import io.sluice.config.RedisConfig;
import io.sluice.redis.LuaScript;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.QueueShards;
import io.sluice.redis.RedisKeys;
import io.sluice.redis.RedisReplyError;
import io.sluice.redis.Script;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The queue protocol's contract, written once and run against every adapter (JobRunr's {@code
 * StorageProviderTest}): a subclass in the adapter's module supplies the protocol and the raw
 * commands of its client, against the real Redis under the test class's own key prefix.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class QueueProtocolContract {
  private static final Duration NO_WAIT = Duration.ofMillis(20);

  /** Any Redis command on one key, run as a script, so the contract needs no client of its own. */
  private static final Script COMMAND =
      script("return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))");

  private static final Script DESTROY_GROUP =
      script("return redis.call('XGROUP', 'DESTROY', KEYS[1], ARGV[1])");

  private QueueProtocol protocol;
  private QueueCommands commands;
  private ScriptRunner runner;
  private RedisKeys keys;

  /** The adapter's protocol, connected to the test's Redis. */
  protected abstract QueueProtocol protocol(RedisConfig config);

  /** The adapter's commands on a connection of their own. */
  protected abstract QueueCommands commands(RedisConfig config);

  @BeforeAll
  void connect(TestEnvironment env) {
    RedisConfig config = RedisConfig.parse(env.redisUrl(), env.redisPrefix());
    protocol = protocol(config);
    commands = commands(config);
    runner = new ScriptRunner(commands);
    keys = new RedisKeys(env.redisPrefix());
  }

  @AfterAll
  void close() {
    protocol.close();
    commands.close();
  }

  @Test
  void enqueuedTasksAreEachDeliveredOnceAcrossConsumers() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.ensureWorkerGroup(queue);
    protocol.enqueue(queue, job, IntStream.range(0, 2500).toArray()); // three script calls

    List<Delivery> delivered = new ArrayList<>();
    for (int round = 0; round < 20; round++) {
      delivered.addAll(protocol.fetch(queue, "w" + round % 2, 256, NO_WAIT));
    }

    assertThat(delivered).extracting(Delivery::seq).containsExactlyInAnyOrderElementsOf(seqs(2500));
    assertThat(delivered).extracting(Delivery::entryId).doesNotHaveDuplicates();
    assertThat(delivered).allSatisfy(d -> assertThat(d.jobId()).isEqualTo(job));
    assertThat(delivered).allSatisfy(d -> assertThat(d.queue()).isEqualTo(queue));
    assertThat(protocol.fetch(queue, "w0", 256, NO_WAIT)).isEmpty();
  }

  @Test
  void aHigherBandIsDeliveredBeforeALowerOne() {
    String queue = queue();
    UUID low = UUID.randomUUID();
    UUID high = UUID.randomUUID();
    protocol.ensureWorkerGroup(PriorityBand.LOW.stream(queue));
    protocol.ensureWorkerGroup(PriorityBand.HIGH.stream(queue));
    protocol.enqueue(PriorityBand.LOW.stream(queue), low, new int[] {0, 1});
    protocol.enqueue(PriorityBand.HIGH.stream(queue), high, new int[] {0, 1});

    List<Delivery> first = protocol.fetch(queue, "w", 3, NO_WAIT);

    assertThat(first).extracting(Delivery::jobId).containsExactly(high, high, low);
    assertThat(first.get(0).queue()).isEqualTo(PriorityBand.HIGH.stream(queue));
    assertThat(first.get(2).queue()).isEqualTo(PriorityBand.LOW.stream(queue));
  }

  @Test
  void aRoundOverSeveralQueuesReadsEachItsCountHighestBandFirstAndTellsWhatIsLeft() {
    String busy = queue();
    String scant = queue();
    String idle = queue();
    String peeked = queue();
    UUID high = UUID.randomUUID();
    UUID normal = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    protocol.ensureWorkerGroup(busy);
    protocol.ensureWorkerGroup(idle);
    protocol.enqueue(PriorityBand.HIGH.stream(busy), high, new int[] {0});
    protocol.enqueue(busy, normal, new int[] {0, 1, 2});
    protocol.enqueue(scant, other, new int[] {5}); // no group yet: created by the read
    protocol.enqueue(peeked, other, new int[] {9});
    Map<String, Integer> counts = new LinkedHashMap<>();
    counts.put(busy, 3);
    counts.put(scant, 2);
    counts.put(idle, 2);
    counts.put(peeked, 0);

    Map<String, Fetched> round = protocol.fetchEach(counts, "w");

    assertThat(round.get(busy).deliveries())
        .extracting(Delivery::jobId, Delivery::seq)
        .containsExactly(Tuple.tuple(high, 0), Tuple.tuple(normal, 0), Tuple.tuple(normal, 1));
    assertThat(round.get(busy).deliveries().get(0).queue())
        .isEqualTo(PriorityBand.HIGH.stream(busy));
    assertThat(round.get(busy).deliveries().get(1).queue()).isEqualTo(busy);
    assertThat(round.get(busy).more()).as("one task of the busy queue is left").isTrue();
    assertThat(round.get(scant).deliveries()).extracting(Delivery::seq).containsExactly(5);
    assertThat(round.get(scant).more()).isFalse();
    assertThat(round.get(idle).deliveries()).isEmpty();
    assertThat(round.get(idle).more()).isFalse();
    assertThat(round.get(peeked).deliveries()).as("a count of 0 reads nothing").isEmpty();
    assertThat(round.get(peeked).more()).isTrue();

    Map<String, Fetched> next = protocol.fetchEach(Map.of(busy, 5, peeked, 5), "w");
    assertThat(next.get(busy).deliveries()).extracting(Delivery::seq).containsExactly(2);
    assertThat(next.get(busy).more()).isFalse();
    assertThat(next.get(peeked).deliveries()).extracting(Delivery::seq).containsExactly(9);
    assertThat(protocol.fetchEach(Map.of(busy, 0), "w").get(busy).more())
        .as("read but unacknowledged entries are not left to read")
        .isFalse();
  }

  @Test
  void aWaitOnSeveralQueuesEndsWhenAnyOfThemGetsAnEntry() throws Exception {
    List<String> queues = List.of(queue(), queue(), queue());
    queues.forEach(protocol::ensureWorkerGroup);
    UUID job = UUID.randomUUID();
    assertThat(protocol.awaitAny(queues, "w", 2, NO_WAIT)).isEmpty();

    var waiting =
        CompletableFuture.supplyAsync(
            () -> protocol.awaitAny(queues, "w", 2, Duration.ofSeconds(5)));
    Thread.sleep(200);
    protocol.enqueue(PriorityBand.LOW.stream(queues.get(2)), job, new int[] {4});

    List<Delivery> woken = waiting.get(4, TimeUnit.SECONDS);
    assertThat(woken).extracting(Delivery::seq).containsExactly(4);
    assertThat(woken.get(0).queue()).isEqualTo(PriorityBand.LOW.stream(queues.get(2)));

    protocol.enqueue(queues.get(0), job, new int[] {0, 1});
    protocol.enqueue(queues.get(1), job, new int[] {2});
    protocol.enqueue(PriorityBand.HIGH.stream(queues.get(1)), job, new int[] {3});
    List<Delivery> one = protocol.awaitAny(queues, "w", 1, NO_WAIT);
    assertThat(one).as("the highest band first").extracting(Delivery::seq).containsExactly(3);
    List<Delivery> rest = new ArrayList<>();
    for (String q : queues) {
      rest.addAll(protocol.fetch(q, "w", 10, NO_WAIT));
    }
    assertThat(rest)
        .as("what was read beyond the count is handed back, not lost")
        .extracting(Delivery::seq)
        .containsExactlyInAnyOrder(0, 1, 2);
  }

  @Test
  void acknowledgingDecrementsTheFanInExactlyAndReportsTheCrossingOnce() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.initFanIn(job, 10);
    protocol.ensureWorkerGroup(queue);
    protocol.enqueue(queue, job, IntStream.range(0, 10).toArray());
    List<Delivery> delivered = protocol.fetch(queue, "w", 10, NO_WAIT);

    FanIn part = acknowledge(queue, delivered.subList(0, 4)).get(job);
    FanIn rest = acknowledge(queue, delivered.subList(4, 10)).get(job);
    FanIn again = acknowledge(queue, delivered.subList(4, 10)).get(job);

    assertThat(part).isEqualTo(new FanIn(6, false));
    assertThat(rest).isEqualTo(new FanIn(0, true));
    assertThat(again).isEqualTo(new FanIn(0, false));
    assertThat(call("XLEN", keys.readyStream(queue))).isZero(); // acknowledged entries are deleted
    assertThat(protocol.fetch(queue, "w", 10, NO_WAIT)).isEmpty();
  }

  @Test
  void aTaskIsCountedOncePerJobHoweverOftenItIsAcknowledged() {
    UUID job = UUID.randomUUID();
    UUID unknown = UUID.randomUUID();
    protocol.initFanIn(job, 3);

    Map<UUID, FanIn> first = protocol.acknowledge(Map.of(), Map.of(job, List.of(1, 1, 2)));
    Map<UUID, FanIn> redelivered = protocol.acknowledge(Map.of(), Map.of(job, List.of(2, 1)));
    Map<UUID, FanIn> last =
        protocol.acknowledge(Map.of(), Map.of(job, List.of(3), unknown, List.of(1)));

    assertThat(first.get(job)).isEqualTo(new FanIn(1, false));
    assertThat(redelivered.get(job)).isEqualTo(new FanIn(1, false));
    assertThat(last.get(job)).isEqualTo(new FanIn(0, true));
    assertThat(last.get(unknown).counterMissing()).isTrue();
  }

  @Test
  void reopenedAndRebuiltFanInsCountEachUnfinishedTaskOnceMore() {
    UUID job = UUID.randomUUID();
    protocol.initFanIn(job, 3);
    protocol.acknowledge(Map.of(), Map.of(job, List.of(0, 1)));

    assertThat(protocol.reopenFanIn(job, 1, 1)).isEqualTo(2);
    assertThat(protocol.reopenFanIn(job, 1)).isEqualTo(2);
    assertThat(protocol.acknowledge(Map.of(), Map.of(job, List.of(1))).get(job).remaining())
        .isEqualTo(1);
    assertThat(protocol.reopenFanIn(UUID.randomUUID(), 1)).isEqualTo(-1);

    UUID rebuilt = UUID.randomUUID();
    protocol.rebuildFanIn(rebuilt, 5, new int[] {0, 1});
    assertThat(protocol.acknowledge(Map.of(), Map.of(rebuilt, List.of(0, 2))).get(rebuilt))
        .isEqualTo(new FanIn(2, false));
  }

  @Test
  void aFetchAfterTheGroupIsGoneRecreatesItAndDelivers() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.ensureWorkerGroup(queue);
    protocol.ensureWorkerGroup(queue); // BUSYGROUP is no error
    runner.run(
        new ScriptCall(
            DESTROY_GROUP, List.of(keys.readyStream(queue)), List.of(RedisKeys.WORKER_GROUP)));
    protocol.enqueue(queue, job, new int[] {7});

    List<Delivery> delivered = protocol.fetch(queue, "w", 10, NO_WAIT);

    assertThat(delivered).extracting(Delivery::seq).containsExactly(7);
    assertThat(protocol.fetch(queue(), "w", 10, NO_WAIT)).isEmpty(); // a stream never written
  }

  @Test
  void aPausedQueueGivesNothingKeepsItsEntriesUnreadAndAnOlderStateCannotUndoThePause() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.enqueue(queue, job, new int[] {0, 1, 2});
    assertThat(control(new QueueControl(queue, 2, true, null))).isEqualTo(1L);

    Fetched paused = protocol.fetchEach(Map.of(queue, 5), "w").get(queue);
    assertThat(paused.deliveries()).as("nothing of a paused queue is read").isEmpty();
    assertThat(paused.paused()).isTrue();
    assertThat(paused.more()).as("a paused queue offers nothing to share slots with").isFalse();
    assertThat(control(new QueueControl(queue, 1, false, null)))
        .as("a resume older than the pause is refused")
        .isZero();
    assertThat(protocol.fetchEach(Map.of(queue, 5), "w").get(queue).deliveries()).isEmpty();

    assertThat(control(new QueueControl(queue, 3, false, null))).isEqualTo(1L);
    Fetched resumed = protocol.fetchEach(Map.of(queue, 5), "w").get(queue);
    assertThat(resumed.deliveries()).extracting(Delivery::seq).containsExactly(0, 1, 2);
    assertThat(resumed.paused()).isFalse();
    assertThat(resumed.rated()).isFalse();
  }

  @Test
  void aRateLimitedQueueGivesOneEntryPerEmissionIntervalAndTellsTheWaitForTheNext() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.enqueue(queue, job, IntStream.range(0, 10).toArray());
    QueueRates.Rate fivePerSecond = new QueueRates.Rate(5, Duration.ofSeconds(1));
    control(new QueueControl(queue, 0, false, fivePerSecond));

    Fetched first = protocol.fetchEach(Map.of(queue, 10), "w").get(queue);
    assertThat(first.deliveries()).as("one token, one entry").hasSize(1);
    assertThat(first.waitMs()).isZero();
    assertThat(first.more()).isTrue();
    Fetched limited = protocol.fetchEach(Map.of(queue, 10), "w").get(queue);
    assertThat(limited.deliveries()).as("no token before the interval has passed").isEmpty();
    assertThat(limited.waitMs())
        .as("(1 s + 60 ms) / 5 = 212 ms, less the 20 ms kept for a late worker")
        .isBetween(150L, 192L);
    assertThat(limited.more()).isTrue();

    long started = System.nanoTime();
    await()
        .pollInterval(Duration.ofMillis(10))
        .atMost(Duration.ofSeconds(2))
        .until(
            () -> protocol.fetchEach(Map.of(queue, 10), "w").get(queue).deliveries().size() == 1);
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the next token comes after the interval, on Redis's clock")
        .isGreaterThan(Duration.ofMillis(140));

    control(new QueueControl(queue, 0, false, null));
    Fetched unlimited = protocol.fetchEach(Map.of(queue, 10), "w").get(queue);
    assertThat(unlimited.deliveries()).as("a removed limit reads the rest at once").hasSize(8);
    assertThat(unlimited.rated()).isFalse();
  }

  private long control(QueueControl control) {
    return QueueScripts.number(runner.run(new QueueScripts(keys).queueControl(control)));
  }

  @Test
  void aScriptRedisDoesNotKnowIsLoadedAndRunAgainWithoutFlushingOthers() {
    // A script no client ever loaded stands in for a flushed cache, so no other test is disturbed.
    Script fresh = script("return tonumber(ARGV[1]) + 1 -- " + UUID.randomUUID());
    ScriptCall unknown = new ScriptCall(fresh, List.of(keys.collectStream()), List.of("41"));
    ScriptCall known = new ScriptCall(COMMAND, List.of(keys.collectStream()), List.of("EXISTS"));

    Object reply = commands.evalsha(List.of(unknown)).get(0);
    assertThat(reply).isInstanceOf(RuntimeException.class);
    assertThat(RedisReplyError.of((Throwable) reply)).isEqualTo(RedisReplyError.NOSCRIPT);

    Script other = script("return tonumber(ARGV[1]) * 2 -- " + UUID.randomUUID());
    List<Object> replies =
        runner.run(
            List.of(known, new ScriptCall(other, unknown.keys(), List.of("21")), unknown, known));
    assertThat(replies).extracting(QueueScripts::number).containsExactly(0L, 42L, 42L, 0L);
  }

  @Test
  void collectSignalsAreReadOnceAndGoneWhenAcknowledged() {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    protocol.ensureCollectGroup();
    protocol.signalCollect(List.of(a, b));

    try (CollectReader reader = protocol.collectReader("c1")) {
      List<CollectSignal> signals = reader.read(10, Duration.ofSeconds(1));
      assertThat(signals).extracting(CollectSignal::jobId).containsExactly(a, b);
      protocol.ackCollect(signals);
      assertThat(reader.read(10, NO_WAIT)).isEmpty();
    }
    assertThat(call("XLEN", keys.collectStream())).isZero();
  }

  @Test
  void deletingJobKeysRemovesEachJobsCounterAndBitmap() {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    UUID kept = UUID.randomUUID();
    for (UUID job : List.of(a, b, kept)) {
      protocol.initFanIn(job, 2);
      protocol.acknowledge(Map.of(), Map.of(job, List.of(0)));
    }

    protocol.deleteJobKeys(List.of(a, b));

    for (UUID job : List.of(a, b)) {
      assertThat(call("EXISTS", keys.remaining(job)) + call("EXISTS", keys.counted(job))).isZero();
    }
    assertThat(call("EXISTS", keys.remaining(kept)) + call("EXISTS", keys.counted(kept)))
        .isEqualTo(2);
  }

  @Test
  void deletingJobKeysRemovesTheStagedBitmapARebuildInterruptedLeftBehind() {
    UUID job = UUID.randomUUID();
    protocol.initFanIn(job, 4);
    // A rebuild that died between staging the finished tasks and swapping the bitmap in.
    call("SETBIT", keys.countedStaging(job), "3", "1");

    protocol.deleteJobKeys(List.of(job));

    assertThat(
            call("EXISTS", keys.remaining(job))
                + call("EXISTS", keys.counted(job))
                + call("EXISTS", keys.countedStaging(job)))
        .isZero();
  }

  @Test
  void entriesReadButNotAcknowledgedAreTakenOverOnceIdleLongEnough() {
    String queue = queue();
    UUID job = UUID.randomUUID();
    protocol.ensureWorkerGroup(queue);
    protocol.enqueue(queue, job, new int[] {0, 1, 2});
    List<Delivery> read = protocol.fetch(queue, "dead-worker", 10, NO_WAIT);
    Duration minIdle = Duration.ofMillis(300);

    assertThat(protocol.takeOverIdleEntries(queue, Duration.ofHours(1), 10)).isEmpty();
    List<Delivery> taken = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> taken.addAll(protocol.takeOverIdleEntries(queue, minIdle, 10)));

    assertThat(taken).containsExactlyInAnyOrderElementsOf(read);
    assertThat(protocol.takeOverIdleEntries(queue(), minIdle, 10)).isEmpty(); // no group
  }

  // Per-key concurrency (issue 13): a job's concurrencyKey puts its tasks on the key's own stream.

  @Test
  void aConcurrencyKeyAtItsLimitHoldsBackOnlyItsOwnTasks() {
    String queue = queue();
    String flooded = PriorityBand.stream(queue, 0, "customer-1");
    String other = PriorityBand.stream(queue, 0, "customer-2");
    UUID flood = UUID.randomUUID();
    UUID small = UUID.randomUUID();
    UUID plain = UUID.randomUUID();
    protocol.enqueue(flooded, flood, IntStream.range(0, 200).toArray(), 2);
    protocol.enqueue(other, small, new int[] {0, 1, 2}, 2);
    protocol.enqueue(queue, plain, new int[] {0, 1, 2});

    Fetched first = protocol.fetchEach(Map.of(queue, 20), "w").get(queue);

    assertThat(first.deliveries())
        .as("two of each key (its limit) and every unkeyed task, none beyond")
        .extracting(Delivery::jobId)
        .containsOnly(flood, small, plain)
        .hasSize(7);
    assertThat(first.deliveries().stream().filter(d -> d.jobId().equals(flood))).hasSize(2);
    assertThat(first.deliveries().stream().filter(d -> d.jobId().equals(small))).hasSize(2);
    assertThat(first.deliveries())
        .filteredOn(d -> d.jobId().equals(flood))
        .allSatisfy(
            d -> {
              assertThat(d.queue()).isEqualTo(flooded);
              assertThat(d.keyLimit()).isEqualTo(2);
            });
    assertThat(first.deliveries())
        .filteredOn(d -> d.jobId().equals(plain))
        .allSatisfy(d -> assertThat(d.keyLimit()).isZero());
    assertThat(first.more()).as("both keys are at their limit: nothing can be read now").isFalse();
    assertThat(text(keys.keyedUnread(flooded)))
        .as("the band's keyed tasks not read yet: 198 + 1")
        .isEqualTo("199");
    assertThat(protocol.fetchEach(Map.of(queue, 20), "w").get(queue).deliveries()).isEmpty();

    Delivery done =
        first.deliveries().stream().filter(d -> d.jobId().equals(flood)).findFirst().orElseThrow();
    protocol.acknowledge(Map.of(flooded, List.of(done.entryId())), Map.of());

    Fetched next = protocol.fetchEach(Map.of(queue, 20), "w").get(queue);
    assertThat(next.deliveries())
        .as("the acknowledgement gave its slot back: one more of that key, none of the full one")
        .extracting(Delivery::jobId)
        .containsExactly(flood);
  }

  @Test
  void keysAreServedRoundRobinNotFirstInFirstOut() {
    String queue = queue();
    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    UUID third = UUID.randomUUID();
    protocol.enqueue(
        PriorityBand.stream(queue, 0, "a"), first, IntStream.range(0, 100).toArray(), 50);
    protocol.enqueue(
        PriorityBand.stream(queue, 0, "b"), second, IntStream.range(0, 100).toArray(), 50);
    protocol.enqueue(PriorityBand.stream(queue, 0, "c"), third, new int[] {0, 1}, 50);

    List<Delivery> read = protocol.fetchEach(Map.of(queue, 12), "w").get(queue).deliveries();

    assertThat(read).hasSize(12);
    assertThat(read.stream().filter(d -> d.jobId().equals(third)))
        .as("the key enqueued last still gets its tasks in the first read")
        .hasSize(2);
    assertThat(read.stream().filter(d -> d.jobId().equals(first))).hasSize(5);
    assertThat(read.stream().filter(d -> d.jobId().equals(second))).hasSize(5);
  }

  @Test
  void aKeysLimitHoldsHoweverManyReadersRaceForIt() throws Exception {
    String queue = queue();
    String stream = PriorityBand.stream(queue, 0, "hot");
    UUID job = UUID.randomUUID();
    int tasks = 600;
    int limit = 3;
    protocol.enqueue(stream, job, IntStream.range(0, tasks).toArray(), limit);
    AtomicInteger live = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> readers = new ArrayList<>();
    for (int r = 0; r < 8; r++) {
      String consumer = "w" + r;
      readers.add(
          CompletableFuture.runAsync(
              () -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (seen.size() < tasks && System.nanoTime() < until) {
                  List<Delivery> got =
                      protocol.fetchEach(Map.of(queue, 4), consumer).get(queue).deliveries();
                  // Counted after the read took the slots and uncounted before the
                  // acknowledgement gives them back: never above the slots really held.
                  most.accumulateAndGet(live.addAndGet(got.size()), Math::max);
                  got.forEach(d -> seen.add(d.seq()));
                  live.addAndGet(-got.size());
                  if (!got.isEmpty()) {
                    protocol.acknowledge(
                        Map.of(stream, got.stream().map(Delivery::entryId).toList()), Map.of());
                  }
                }
              }));
    }
    CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);

    assertThat(seen).as("every task read once").containsExactlyInAnyOrderElementsOf(seqs(tasks));
    assertThat(most.get())
        .as("tasks of the key held at once, by 8 racing readers")
        .isBetween(1, limit);
    assertThat(call("EXISTS", keys.readyStream(stream)))
        .as("the drained key's stream is deleted with its last entry")
        .isZero();
    assertThat(call("ZCARD", keys.keyRing(stream))).as("and the key left the ring").isZero();
    assertThat(call("ZCARD", keys.keySlots(stream))).as("every slot was given back").isZero();
    assertThat(text(keys.keyedUnread(stream))).isEqualTo("0");
  }

  @Test
  void aKeySlotWhoseReaderDiedComesBackAfterItsLease() {
    String queue = queue();
    String stream = PriorityBand.stream(queue, 0, "k");
    UUID job = UUID.randomUUID();
    protocol.enqueue(stream, job, new int[] {0, 1}, 1);
    Duration lease = Duration.ofMillis(300);

    assertThat(protocol.fetchEach(Map.of(queue, 5), "dead", lease).get(queue).deliveries())
        .extracting(Delivery::seq)
        .containsExactly(0);
    assertThat(protocol.fetchEach(Map.of(queue, 5), "w", lease).get(queue).deliveries())
        .as("the key's one slot is held")
        .isEmpty();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                !protocol
                    .fetchEach(Map.of(queue, 5), "w", lease)
                    .get(queue)
                    .deliveries()
                    .isEmpty());
  }

  @Test
  void aBlockedReaderWakesWhenAKeyGetsTasksOrAFreeSlot() throws Exception {
    String queue = queue();
    String stream = PriorityBand.stream(queue, 0, "k");
    protocol.ensureWorkerGroup(queue);
    UUID job = UUID.randomUUID();
    CompletableFuture<List<Delivery>> waiting =
        CompletableFuture.supplyAsync(
            () -> protocol.awaitAny(List.of(queue), "w", 5, Duration.ofSeconds(20)));
    Thread.sleep(200);
    long started = System.nanoTime();
    protocol.enqueue(stream, job, new int[] {0, 1}, 1);

    assertThat(waiting.get(10, TimeUnit.SECONDS))
        .as("the bell wakes the reader; the key's tasks are read through fetchEach")
        .isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    List<Delivery> got = protocol.fetchEach(Map.of(queue, 5), "w").get(queue).deliveries();
    assertThat(got).extracting(Delivery::seq).containsExactly(0);

    CompletableFuture<List<Delivery>> again =
        CompletableFuture.supplyAsync(
            () -> protocol.awaitAny(List.of(queue), "w", 5, Duration.ofSeconds(20)));
    Thread.sleep(200);
    protocol.acknowledge(Map.of(stream, List.of(got.get(0).entryId())), Map.of());
    assertThat(again.get(10, TimeUnit.SECONDS)).as("a freed slot rings too").isEmpty();
    assertThat(protocol.fetchEach(Map.of(queue, 5), "w").get(queue).deliveries())
        .extracting(Delivery::seq)
        .containsExactly(1);
  }

  @Test
  void aPausedQueueHoldsItsKeysTasksToo() {
    String queue = queue();
    protocol.enqueue(PriorityBand.stream(queue, 0, "k"), UUID.randomUUID(), new int[] {0}, 5);
    control(new QueueControl(queue, 1, true, null));

    assertThat(protocol.fetchEach(Map.of(queue, 5), "w").get(queue).deliveries()).isEmpty();

    control(new QueueControl(queue, 2, false, null));
    assertThat(protocol.fetchEach(Map.of(queue, 5), "w").get(queue).deliveries()).hasSize(1);
  }

  // Sharded queues (issue 12): one queue's streams spread over several hash tags.

  @Test
  void aShardedQueueSpreadsItsTasksOverItsShardsAndDeliversEachOnce(TestEnvironment env) {
    String queue = queue();
    try (QueueProtocol sharded = sharded(env, queue + "=4")) {
      UUID job = UUID.randomUUID();
      sharded.ensureWorkerGroup(queue);
      sharded.enqueue(queue, job, IntStream.range(0, 1000).toArray());

      for (int i = 0; i < 4; i++) {
        String stream = keys.readyStream(QueueShards.withShard(queue, i));
        assertThat(stream).contains(i == 0 ? "{q:" + queue + "}" : "{q:" + queue + "@" + i + "}");
        assertThat(call("XLEN", stream)).as("shard %d", i).isEqualTo(250L);
      }
      List<Delivery> delivered = new ArrayList<>();
      for (int round = 0; round < 40 && delivered.size() < 1000; round++) {
        Fetched f = sharded.fetchEach(Map.of(queue, 64), "w" + round % 2).get(queue);
        delivered.addAll(f.deliveries());
        Map<String, List<String>> ids = new LinkedHashMap<>();
        f.deliveries()
            .forEach(d -> ids.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entryId()));
        sharded.acknowledge(ids, Map.of());
      }

      assertThat(delivered)
          .extracting(Delivery::seq)
          .containsExactlyInAnyOrderElementsOf(seqs(1000));
      assertThat(delivered).extracting(Delivery::queue).contains(queue, queue + "@1", queue + "@3");
      for (int i = 0; i < 4; i++) {
        assertThat(call("XLEN", keys.readyStream(QueueShards.withShard(queue, i)))).isZero();
      }
      assertThat(sharded.fetchEach(Map.of(queue, 64), "w").get(queue).more()).isFalse();
    }
  }

  @Test
  void aShardedQueuesKeyLivesOnOneShardAndItsPauseAndRateCoverEveryShard(TestEnvironment env) {
    String queue = queue();
    try (QueueProtocol sharded = sharded(env, queue + "=3")) {
      String keyed = PriorityBand.stream(queue, 0, "customer-9");
      int shard = QueueShards.shardOfKey("customer-9", 3);
      sharded.enqueue(keyed, UUID.randomUUID(), IntStream.range(0, 30).toArray(), 2);
      assertThat(call("XLEN", keys.readyStream(QueueShards.withShard(keyed, shard))))
          .as("every task of the key on the key's shard")
          .isEqualTo(30L);
      assertThat(sharded.fetchEach(Map.of(queue, 30), "w").get(queue).deliveries())
          .as("the key's limit holds over the shards")
          .hasSize(2)
          .allSatisfy(d -> assertThat(d.queue()).isEqualTo(QueueShards.withShard(keyed, shard)));

      ((RedisQueueProtocol) sharded)
          .controlQueues(
              List.of(
                  new QueueControl(
                      queue, 1, true, new QueueRates.Rate(10, Duration.ofSeconds(1)))));
      List<String> rates = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String control = keys.queueControl(QueueShards.shardQueue(queue, i));
        assertThat(hget(control, "paused")).as("shard %d paused", i).isEqualTo("1");
        rates.add(hget(control, "rate"));
      }
      assertThat(rates).as("10/s shared out, adding up to 10").containsExactly("4", "3", "3");
      sharded.enqueue(queue, UUID.randomUUID(), new int[] {0, 1, 2});
      assertThat(sharded.fetchEach(Map.of(queue, 10), "w").get(queue).paused()).isTrue();
      assertThat(sharded.fetchEach(Map.of(queue, 10), "w").get(queue).deliveries()).isEmpty();
    }
  }

  @Test
  void aShardedQueuesIdleEntriesAreTakenOverFromEveryShard(TestEnvironment env) {
    String queue = queue();
    try (QueueProtocol sharded = sharded(env, queue + "=2")) {
      sharded.ensureWorkerGroup(queue);
      sharded.enqueue(queue, UUID.randomUUID(), new int[] {0, 1, 2, 3});
      List<Delivery> read = new ArrayList<>();
      for (int round = 0; round < 4 && read.size() < 4; round++) {
        read.addAll(sharded.fetchEach(Map.of(queue, 10), "dead").get(queue).deliveries());
      }
      assertThat(read).as("one shard a read, the next at the next").hasSize(4);
      List<Delivery> taken = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  taken.addAll(sharded.takeOverIdleEntries(queue, Duration.ofMillis(300), 10))
                      && taken.size() == 4);
      assertThat(taken).containsExactlyInAnyOrderElementsOf(read);
      assertThat(taken).extracting(Delivery::queue).containsOnly(queue, queue + "@1");
    }
  }

  private QueueProtocol sharded(TestEnvironment env, String spec) {
    return protocol(
        RedisConfig.parse(env.redisUrl(), env.redisPrefix()).withShards(QueueShards.parse(spec)));
  }

  private String hget(String key, String field) {
    Object reply = runner.run(new ScriptCall(COMMAND, List.of(key), List.of("HGET", field)));
    return reply instanceof byte[] bytes
        ? new String(bytes, StandardCharsets.UTF_8)
        : String.valueOf(reply);
  }

  @Test
  void pingAnswers() {
    assertThat(protocol.ping()).isTrue();
  }

  private Map<UUID, FanIn> acknowledge(String queue, List<Delivery> batch) {
    Map<UUID, List<Integer>> finished = new LinkedHashMap<>();
    batch.forEach(d -> finished.computeIfAbsent(d.jobId(), j -> new ArrayList<>()).add(d.seq()));
    return protocol.acknowledge(
        Map.of(queue, batch.stream().map(Delivery::entryId).toList()), finished);
  }

  private long call(String command, String key, String... args) {
    List<String> argv = new ArrayList<>(List.of(command));
    argv.addAll(List.of(args));
    return QueueScripts.number(runner.run(new ScriptCall(COMMAND, List.of(key), argv)));
  }

  private String text(String key) {
    Object reply = runner.run(new ScriptCall(COMMAND, List.of(key), List.of("GET")));
    return reply instanceof byte[] bytes
        ? new String(bytes, StandardCharsets.UTF_8)
        : String.valueOf(reply);
  }

  private static String queue() {
    return "q" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static List<Integer> seqs(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static Script script(String source) {
    return new TestScript(source, LuaScript.sha1(source), false);
  }

  private record TestScript(String source, String sha, boolean repliesWithArray)
      implements Script {}
}
