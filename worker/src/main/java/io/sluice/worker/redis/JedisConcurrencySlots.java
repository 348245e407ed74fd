package io.sluice.worker.redis;

import io.sluice.config.RedisConfig;
import io.sluice.redis.LuaScript;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Bounded counters in Redis: {@code slots_acquire.lua} checks every counter and takes a slot of
 * each in one atomic step, {@code slots_renew.lua} extends held slots with their lease and {@code
 * slots_release.lua} gives them back. A slot is bound to a holder (a task's claim) and expires with
 * the lease unless renewed, so a dead worker's slots come back on their own. No Jedis type leaves
 * this package.
 */
public final class JedisConcurrencySlots implements AutoCloseable {
  private final JedisPool pool;

  public JedisConcurrencySlots(RedisConfig config, int connections) {
    this.pool = JedisPools.create(config, connections, "sluice-worker-slots");
  }

  /**
   * Takes a slot of every counter for {@code holder}, or none; returns 0 when taken, else the
   * 1-based index of the first counter that is full.
   */
  public int tryAcquire(List<String> keys, List<Integer> limits, String holder, Duration ttl) {
    List<String> args = new ArrayList<>(limits.size() + 2);
    args.add(holder);
    args.add(String.valueOf(ttl.toMillis()));
    limits.forEach(l -> args.add(String.valueOf(l)));
    return (int) run(LuaScript.SLOTS_ACQUIRE, keys, args);
  }

  /** Extends the holder's live slots by {@code ttl} from now; returns how many it still held. */
  public int renew(List<String> keys, String holder, Duration ttl) {
    return (int) run(LuaScript.SLOTS_RENEW, keys, List.of(holder, String.valueOf(ttl.toMillis())));
  }

  /** Gives the holder's slots back; returns how many were released. */
  public int release(List<String> keys, String holder) {
    return (int) run(LuaScript.SLOTS_RELEASE, keys, List.of(holder));
  }

  /** The live holders of one counter (expired ones excluded), for tests and metrics. */
  public long holders(String key) {
    return withJedis(
        jedis -> {
          List<String> time = jedis.time();
          long now = Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
          return jedis.zcount(key, "(" + now, "+inf");
        });
  }

  private long run(LuaScript script, List<String> keys, List<String> args) {
    return withJedis(
        jedis -> {
          try {
            return (Long) jedis.evalsha(script.sha(), keys, args);
          } catch (JedisDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("NOSCRIPT")) {
              throw e;
            }
            // Redis restarted or flushed its script cache: send the source once.
            return (Long) jedis.eval(script.source(), keys, args);
          }
        });
  }

  private <T> T withJedis(Function<Jedis, T> call) {
    try (Jedis jedis = pool.getResource()) {
      return call.apply(jedis);
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
