package io.sluice.worker.redis;

import io.sluice.config.RedisConfig;
import io.sluice.queue.ConcurrencySlots;
import io.sluice.queue.QueueScripts;
import io.sluice.queue.ScriptCall;
import io.sluice.queue.ScriptRunner;
import java.time.Duration;
import java.util.List;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.util.Pool;

/**
 * Bounded counters on Jedis: {@code slots_acquire.lua} checks every counter and takes a slot of
 * each in one atomic step, {@code slots_renew.lua} extends held slots with their lease and {@code
 * slots_release.lua} gives them back, all run by the one {@link ScriptRunner}.
 */
public final class JedisConcurrencySlots implements ConcurrencySlots {
  private final Pool<Jedis> pool;
  private final JedisClusterCommands cluster;
  private final ScriptRunner runner;

  public JedisConcurrencySlots(RedisConfig config, int connections) {
    if (config.isCluster()) {
      this.pool = null;
      this.cluster = JedisPools.cluster(config, connections, "sluice-worker-slots");
      this.runner = new ScriptRunner(cluster);
    } else {
      this.pool = JedisPools.create(config, connections, "sluice-worker-slots");
      this.cluster = null;
      this.runner = new ScriptRunner(new JedisCommands(pool));
    }
  }

  @Override
  public int tryAcquire(List<String> counters, List<Integer> limits, String holder, Duration ttl) {
    return run(QueueScripts.slotsAcquire(counters, limits, holder, ttl));
  }

  @Override
  public int renew(List<String> counters, String holder, Duration ttl) {
    return run(QueueScripts.slotsRenew(counters, holder, ttl));
  }

  @Override
  public int release(List<String> counters, String holder) {
    return run(QueueScripts.slotsRelease(counters, holder));
  }

  @Override
  public long holders(String counter) {
    if (cluster != null) {
      return cluster.cluster().zcount(counter, "(" + cluster.timeMillis(counter), "+inf");
    }
    try (Jedis jedis = pool.getResource()) {
      List<String> time = jedis.time();
      long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
      return jedis.zcount(counter, "(" + now, "+inf");
    }
  }

  private int run(ScriptCall call) {
    return (int) QueueScripts.number(runner.run(call));
  }

  @Override
  public void close() {
    if (cluster != null) {
      cluster.close();
    } else {
      pool.close();
    }
  }
}
