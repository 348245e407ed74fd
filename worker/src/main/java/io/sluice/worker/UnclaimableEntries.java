package io.sluice.worker;

import io.sluice.queue.Delivery;
import io.sluice.queue.QueueProtocol;
import io.sluice.store.Database;
import io.sluice.store.PostgresQueueStore;
import io.sluice.store.PostgresTaskStore;
import io.sluice.store.TaskRef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a fetch loop does with entries its claim did not take: those of a queue paused between the
 * read and the claim go back to their queue unstarted; the others are acknowledged, and those whose
 * task already has its result committed are counted towards their job's fan-in again.
 */
final class UnclaimableEntries {
  private static final Logger log = LoggerFactory.getLogger(UnclaimableEntries.class);

  private final Database db;
  private final QueueProtocol redis;
  private final PostgresTaskStore tasks = new PostgresTaskStore();
  private final PostgresQueueStore queueStore = new PostgresQueueStore();

  UnclaimableEntries(Database db, QueueProtocol redis) {
    this.db = db;
    this.redis = redis;
  }

  /**
   * Acknowledges entries whose task is not claimable. Those whose task already has its result
   * committed may be redeliveries from a worker that died between its commit and its fan-in: they
   * are counted again, the fan-in script's bitmap counts each task once, and a job this completes
   * gets its collect trigger now rather than from the sweeper's repair.
   */
  void settle(List<Delivery> unclaimable) {
    Set<TaskRef> refs = new LinkedHashSet<>();
    unclaimable.forEach(d -> refs.add(new TaskRef(d.jobId(), d.seq())));
    Map<UUID, List<Integer>> finished;
    List<Delivery> surplus = new ArrayList<>(unclaimable.size());
    try {
      Set<TaskRef> held = new LinkedHashSet<>();
      finished =
          db.query(
              c -> {
                held.addAll(queueStore.heldByPause(c, refs));
                return tasks.finishedOf(c, refs);
              });
      if (!held.isEmpty()) {
        handBackHeld(unclaimable, held, surplus);
      } else {
        surplus.addAll(unclaimable);
      }
    } catch (RuntimeException e) {
      // Left unacknowledged: the reaper re-appends them, and a later delivery counts them.
      log.warn(
          "Checking {} unclaimable task(s) failed; left to the reaper: {}",
          refs.size(),
          e.toString());
      return;
    }
    Map<String, List<String>> ids = new LinkedHashMap<>();
    surplus.forEach(d -> ids.computeIfAbsent(d.queue(), q -> new ArrayList<>()).add(d.entryId()));
    List<UUID> crossed = new ArrayList<>();
    redis
        .acknowledge(ids, finished)
        .forEach(
            (jobId, fanIn) -> {
              if (fanIn.crossed()) {
                crossed.add(jobId);
              }
            });
    if (!crossed.isEmpty()) {
      redis.signalCollect(crossed);
    }
    log.debug(
        "Acknowledged {} entries whose tasks are not claimable ({} finished, counted again)",
        surplus.size(),
        finished.values().stream().mapToInt(List::size).sum());
  }

  /**
   * Hands back to their queue the entries whose task the claim refused because its queue was paused
   * between the read and the claim; the others go into {@code surplus}.
   */
  private void handBackHeld(List<Delivery> unclaimable, Set<TaskRef> held, List<Delivery> surplus) {
    List<Delivery> back = new ArrayList<>(held.size());
    Set<TaskRef> once = new LinkedHashSet<>(held);
    for (Delivery d : unclaimable) {
      // A task read twice goes back once; its other entry is acknowledged.
      (once.remove(new TaskRef(d.jobId(), d.seq())) ? back : surplus).add(d);
    }
    redis.handBack(back);
    log.debug("Handed back {} entries of paused queues, read before the pause", back.size());
  }
}
