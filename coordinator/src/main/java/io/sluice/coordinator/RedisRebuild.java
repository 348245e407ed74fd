package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.store.Database;
import io.sluice.store.PostgresTaskRecovery;
import io.sluice.store.PostgresTaskRecovery.ActiveJob;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices that Redis lost its data (the marker key is gone: a restart without persistence, a
 * FLUSHALL, a failover to an empty replica) and rebuilds what Sluice keeps there from PostgreSQL:
 * consumer groups, queues' paused states and rate limits, every active job's fan-in counter and
 * bitmap, and its queued tasks. The marker is set only after the rebuild, so a rebuild cut short is
 * repeated.
 */
final class RedisRebuild {
  private static final Logger log = LoggerFactory.getLogger(RedisRebuild.class);
  static final String MARKER = "sluice-v1";

  private final Database db;
  private final CoordinatorRedis redis;
  private final Dispatcher dispatcher;
  private final QueueControls queues;
  private final PostgresTaskRecovery recovery = new PostgresTaskRecovery();
  private final Counter rebuilds;
  // The start-up check and the leader's sweeps run it, one after the other.
  private volatile String lastMaster;

  RedisRebuild(
      Database db,
      CoordinatorRedis redis,
      Dispatcher dispatcher,
      QueueControls queues,
      MeterRegistry metrics) {
    this.db = db;
    this.queues = queues;
    this.redis = redis;
    this.dispatcher = dispatcher;
    this.rebuilds = metrics.counter("sluice_redis_rebuilds_total");
  }

  /**
   * Rebuilds if the marker is missing, or if the server written to is another one than at the last
   * check (a Sentinel failover: the promoted replica has the marker but may lack the writes the old
   * master had not yet replicated); returns whether it did.
   */
  boolean rebuildIfLost() {
    String master = redis.master();
    String before = lastMaster;
    boolean moved = before != null && !before.equals(master);
    if (!moved && redis.markerPresent(MARKER)) {
      lastMaster = master;
      return false;
    }
    List<ActiveJob> jobs = db.query(recovery::activeJobs);
    if (moved) {
      log.warn(
          "Redis master moved from {} to {} (a failover may have lost unreplicated writes): rebuilding {} active job(s) from PostgreSQL",
          before,
          master,
          jobs.size());
    } else {
      log.warn(
          "Redis has no Sluice marker (restarted empty or flushed): rebuilding {} active job(s) from PostgreSQL",
          jobs.size());
    }
    dispatcher.forgetQueues();
    redis.ensureCollectGroup();
    // Before any task is appended again: a paused queue's tasks must not be fetchable in between.
    queues.sync(true);
    for (ActiveJob job : jobs) {
      int[] finished = db.query(c -> recovery.finishedSeqs(c, job.id()));
      redis.rebuildFanIn(job.id(), job.taskCount(), finished);
      dispatcher.redispatch(job.id());
    }
    redis.setMarker(MARKER);
    lastMaster = master;
    rebuilds.increment();
    log.info("Redis rebuilt from PostgreSQL: {} active job(s) re-queued", jobs.size());
    return true;
  }
}
