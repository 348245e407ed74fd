package io.sluice.queue;

import io.sluice.redis.LuaScript;
import io.sluice.redis.PriorityBand;
import io.sluice.redis.RedisKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The argument layout of every script call, written once against each script's header in {@code
 * src/main/resources/lua}. Batches are cut at {@link #BATCH} arguments so no script call holds
 * Redis for long.
 */
public final class QueueScripts {
  /** The most task numbers one script call carries. */
  public static final int BATCH = 1000;

  private final RedisKeys keys;

  public QueueScripts(RedisKeys keys) {
    this.keys = keys;
  }

  /**
   * {@code enqueue.lua}, or {@code enqueue_keyed.lua} for a concurrency key's stream (keeping the
   * limit it has): one call per {@link #BATCH} tasks of one job.
   */
  public List<ScriptCall> enqueue(String queue, UUID jobId, int[] seqs) {
    return enqueue(queue, jobId, seqs, 0);
  }

  /**
   * {@link #enqueue(String, UUID, int[])}, setting the limit of the stream's concurrency key when
   * {@code keyLimit} is above 0.
   */
  public List<ScriptCall> enqueue(String queue, UUID jobId, int[] seqs, int keyLimit) {
    String key = PriorityBand.keyOf(queue);
    List<String> callKeys =
        key == null
            ? List.of(keys.readyStream(queue))
            : List.of(
                keys.readyStream(queue),
                keys.keyRing(queue),
                keys.keyLimit(queue),
                keys.readyStream(PriorityBand.bandStreamOf(queue)),
                keys.keyedUnread(queue));
    List<ScriptCall> calls = new ArrayList<>(seqs.length / BATCH + 1);
    for (int from = 0; from < seqs.length; from += BATCH) {
      List<String> args = new ArrayList<>(Math.min(BATCH, seqs.length - from) + 3);
      args.add(jobId.toString());
      if (key != null) {
        args.add(key);
        args.add(String.valueOf(keyLimit));
      }
      args.addAll(strings(seqs, from, Math.min(seqs.length, from + BATCH)));
      calls.add(
          new ScriptCall(
              key == null ? LuaScript.ENQUEUE : LuaScript.ENQUEUE_KEYED, callKeys, args));
    }
    return calls;
  }

  /** {@code ack.lua}: acknowledges and deletes entries of one stream for a group. */
  public ScriptCall ack(String streamKey, String group, List<String> entryIds) {
    List<String> args = new ArrayList<>(entryIds.size() + 1);
    args.add(group);
    args.addAll(entryIds);
    return new ScriptCall(LuaScript.ACK, List.of(streamKey), args);
  }

  /**
   * {@link #ack} of a ready stream by its name, or {@code ack_keyed.lua} for a concurrency key's
   * stream, which also gives back the key slots its entries took.
   */
  public ScriptCall ackReady(String queue, String group, List<String> entryIds) {
    String key = PriorityBand.keyOf(queue);
    if (key == null) {
      return ack(keys.readyStream(queue), group, entryIds);
    }
    List<String> args = new ArrayList<>(entryIds.size() + 3);
    args.add(group);
    args.add(String.valueOf(PriorityBand.of(queue).number()));
    args.add(key);
    args.addAll(entryIds);
    return new ScriptCall(
        LuaScript.ACK_KEYED,
        List.of(
            keys.readyStream(queue),
            keys.keySlots(queue),
            keys.keyRing(queue),
            keys.readyStream(PriorityBand.bandStreamOf(queue))),
        args);
  }

  /**
   * {@code fetch.lua}: up to {@code count} new entries of one queue's bands for {@code consumer},
   * the highest band first, each band's concurrency keys round-robin with its unkeyed stream; a key
   * slot taken lasts {@code keySlotLease} unless renewed.
   */
  public ScriptCall fetch(
      String queue, String group, String consumer, int count, Duration keySlotLease) {
    List<String> fetchKeys = new ArrayList<>();
    fetchKeys.add(keys.queueControl(queue));
    List<String> bands = PriorityBand.streams(queue);
    bands.forEach(band -> fetchKeys.add(keys.readyStream(band)));
    bands.forEach(band -> fetchKeys.add(keys.keyRing(band)));
    return new ScriptCall(
        LuaScript.FETCH,
        fetchKeys,
        List.of(
            group,
            consumer,
            String.valueOf(count),
            keys.queueBase(queue),
            String.valueOf(keySlotLease.toMillis())));
  }

  /** {@code queue_control.lua}: one queue's paused state (if newer) and rate limit. */
  public ScriptCall queueControl(QueueControl control) {
    return new ScriptCall(
        LuaScript.QUEUE_CONTROL,
        List.of(keys.queueControl(control.queue())),
        List.of(
            String.valueOf(control.version()),
            control.paused() ? "1" : "0",
            String.valueOf(control.rate() == null ? 0 : control.rate().count()),
            String.valueOf(control.rate() == null ? 0 : control.rate().period().toMillis())));
  }

  /** {@code fanin.lua}: counts one job's finished tasks. */
  public ScriptCall fanIn(UUID jobId, List<Integer> seqs) {
    return new ScriptCall(
        LuaScript.FANIN, fanInKeys(jobId), seqs.stream().map(String::valueOf).toList());
  }

  /** {@code fanin_init.lua}: creates a job's counter, taking the staged bitmap if any. */
  public ScriptCall fanInInit(UUID jobId, int remaining) {
    return new ScriptCall(
        LuaScript.FANIN_INIT,
        List.of(keys.remaining(jobId), keys.counted(jobId), keys.countedStaging(jobId)),
        List.of(String.valueOf(remaining)));
  }

  /** {@code fanin_reopen.lua}: counts requeued tasks as unfinished again. */
  public ScriptCall fanInReopen(UUID jobId, int[] seqs) {
    return new ScriptCall(LuaScript.FANIN_REOPEN, fanInKeys(jobId), strings(seqs, 0, seqs.length));
  }

  /** {@code bitmap_mark.lua}: stages finished tasks in a job's staging bitmap, by batches. */
  public List<ScriptCall> stageFinished(UUID jobId, int[] seqs) {
    List<String> staging = List.of(keys.countedStaging(jobId));
    List<ScriptCall> calls = new ArrayList<>();
    for (int from = 0; from < seqs.length; from += BATCH) {
      calls.add(
          new ScriptCall(
              LuaScript.BITMAP_MARK,
              staging,
              strings(seqs, from, Math.min(seqs.length, from + BATCH))));
    }
    return calls;
  }

  /** {@code slots_acquire.lua}: one slot of each counter for {@code holder}, or none. */
  public static ScriptCall slotsAcquire(
      List<String> counters, List<Integer> limits, String holder, Duration ttl) {
    List<String> args = new ArrayList<>(limits.size() + 2);
    args.add(holder);
    args.add(String.valueOf(ttl.toMillis()));
    limits.forEach(l -> args.add(String.valueOf(l)));
    return new ScriptCall(LuaScript.SLOTS_ACQUIRE, counters, args);
  }

  /** {@code slots_renew.lua}: extends the holder's live slots. */
  public static ScriptCall slotsRenew(List<String> counters, String holder, Duration ttl) {
    return new ScriptCall(
        LuaScript.SLOTS_RENEW, counters, List.of(holder, String.valueOf(ttl.toMillis())));
  }

  /** {@code slots_release.lua}: gives the holder's slots back. */
  public static ScriptCall slotsRelease(List<String> counters, String holder) {
    return new ScriptCall(LuaScript.SLOTS_RELEASE, counters, List.of(holder));
  }

  /** {@code fanin.lua}'s reply {@code {remaining, crossed}}. */
  public static FanIn fanInReply(Object reply) {
    List<?> values = (List<?>) reply;
    return new FanIn(number(values.get(0)), number(values.get(1)) == 1L);
  }

  /** An integer reply. */
  public static long number(Object reply) {
    return ((Number) reply).longValue();
  }

  private List<String> fanInKeys(UUID jobId) {
    return List.of(keys.remaining(jobId), keys.counted(jobId));
  }

  private static List<String> strings(int[] seqs, int from, int to) {
    return Arrays.stream(seqs, from, to).mapToObj(Integer::toString).toList();
  }
}
