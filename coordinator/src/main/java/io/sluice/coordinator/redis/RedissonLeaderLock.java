package io.sluice.coordinator.redis;

import io.sluice.config.RedisConfig;
import io.sluice.redis.RedisKeys;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RFencedLock;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;

/**
 * The leader-election lock: a Redisson fenced lock with an explicit lease. Redisson locks are bound
 * to a thread, so one thread must make every call. The lock only keeps candidates from racing; the
 * fence that matters is the epoch in PostgreSQL, because this token restarts at 1 after Redis loses
 * its data and no callback tells a holder that it lost the lock.
 */
public final class RedissonLeaderLock implements AutoCloseable {
  private final RedissonClient redisson;
  private final RFencedLock lock;

  public RedissonLeaderLock(RedisConfig config) {
    Config c = new Config();
    c.setCodec(StringCodec.INSTANCE);
    if (config.isCluster()) {
      clusterServers(c, config);
    } else if (config.sentinel() == null) {
      singleServer(c, config);
    } else {
      sentinelServers(c, config);
    }
    this.redisson = Redisson.create(c);
    this.lock = redisson.getFencedLock(new RedisKeys(config.prefix()).leaderLock());
  }

  private static void singleServer(Config c, RedisConfig config) {
    var server =
        c.useSingleServer()
            .setAddress(
                (config.tls() ? "rediss://" : "redis://") + config.host() + ":" + config.port())
            .setDatabase(config.database())
            .setConnectionMinimumIdleSize(1)
            .setConnectionPoolSize(2)
            .setSubscriptionConnectionMinimumIdleSize(0)
            .setTimeout(3_000);
    if (config.password() != null) {
      server.setPassword(config.password()).setUsername(config.user());
    }
  }

  /**
   * A cluster from its seeds; the lock's key lives on the master of its slot (no replica reads),
   * and Redisson follows the slot to the promoted replica after a failover.
   */
  private static void clusterServers(Config c, RedisConfig config) {
    var servers =
        c.useClusterServers()
            .setReadMode(ReadMode.MASTER)
            .setCheckSlotsCoverage(false)
            .setScanInterval(1_000)
            .setMasterConnectionMinimumIdleSize(1)
            .setMasterConnectionPoolSize(2)
            .setSlaveConnectionMinimumIdleSize(0)
            .setSlaveConnectionPoolSize(1)
            .setSubscriptionConnectionMinimumIdleSize(0)
            .setTimeout(3_000);
    String scheme = config.tls() ? "rediss://" : "redis://";
    config.cluster().forEach(n -> servers.addNodeAddress(scheme + n));
    if (config.password() != null) {
      servers.setPassword(config.password()).setUsername(config.user());
    }
  }

  /** The master by its Sentinel name; the lock lives on the master only (no replica reads). */
  private static void sentinelServers(Config c, RedisConfig config) {
    var servers =
        c.useSentinelServers()
            .setMasterName(config.sentinel().masterName())
            .setCheckSentinelsList(false)
            .setReadMode(ReadMode.MASTER)
            .setDatabase(config.database())
            .setMasterConnectionMinimumIdleSize(1)
            .setMasterConnectionPoolSize(2)
            .setSlaveConnectionMinimumIdleSize(0)
            .setSlaveConnectionPoolSize(1)
            .setSubscriptionConnectionMinimumIdleSize(0)
            .setTimeout(3_000);
    config.sentinel().nodes().forEach(n -> servers.addSentinelAddress("redis://" + n));
    if (config.password() != null) {
      servers.setPassword(config.password()).setUsername(config.user());
    }
  }

  /**
   * Takes or extends the lock for {@code lease} without waiting; returns the fencing token, or null
   * when another candidate holds it. ({@code tryLockAndGetToken(wait, lease, unit)} is the one
   * variant that honours both arguments.)
   */
  public Long tryAcquire(Duration lease) {
    return lock.tryLockAndGetToken(0, lease.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Releases the lock if this thread holds it. */
  public void release() {
    try {
      if (lock.isHeldByCurrentThread()) {
        lock.forceUnlock();
      }
    } catch (RuntimeException ignored) {
      // Redis is unreachable: the lease runs out by itself.
    }
  }

  @Override
  public void close() {
    redisson.shutdown();
  }
}
