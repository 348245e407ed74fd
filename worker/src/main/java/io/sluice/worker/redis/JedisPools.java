package io.sluice.worker.redis;

import io.sluice.config.RedisConfig;
import io.sluice.queue.QueueCommands;
import java.util.LinkedHashSet;
import java.util.Set;
import javax.net.ssl.SSLParameters;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.JedisSentinelPool;
import redis.clients.jedis.providers.ClusterConnectionProvider;
import redis.clients.jedis.util.Pool;

/** The worker's Jedis pools, all configured alike from a {@link RedisConfig}. */
final class JedisPools {
  private JedisPools() {}

  /**
   * The queue commands on {@code connections} connections (per node in a cluster), named {@code
   * clientName} in CLIENT LIST.
   */
  static QueueCommands commands(RedisConfig config, int connections, String clientName) {
    if (config.isCluster()) {
      return cluster(config, connections, clientName);
    }
    return new JedisCommands(create(config, connections, clientName));
  }

  /** A cluster's connection pools per node, found from the configured seeds. */
  static JedisClusterCommands cluster(RedisConfig config, int connections, String clientName) {
    Set<HostAndPort> seeds = new LinkedHashSet<>();
    config.cluster().forEach(n -> seeds.add(new HostAndPort(n.host(), n.port())));
    GenericObjectPoolConfig<Connection> poolConfig = new GenericObjectPoolConfig<>();
    poolConfig.setMaxTotal(connections);
    poolConfig.setMaxIdle(connections);
    poolConfig.setTestWhileIdle(true);
    return new JedisClusterCommands(
        new ClusterConnectionProvider(seeds, client(config, clientName), poolConfig));
  }

  /** {@code clientName} names the connections in CLIENT LIST. */
  static Pool<Jedis> create(RedisConfig config, int connections, String clientName) {
    JedisPoolConfig poolConfig = new JedisPoolConfig();
    poolConfig.setMaxTotal(connections);
    poolConfig.setMaxIdle(connections);
    poolConfig.setTestWhileIdle(true);
    var client = client(config, clientName);
    if (config.sentinel() != null) {
      // The pool asks the sentinels for the master and follows it to a new one after a failover;
      // the sentinels themselves are asked without credentials.
      Set<HostAndPort> sentinels = new LinkedHashSet<>();
      config.sentinel().nodes().forEach(n -> sentinels.add(new HostAndPort(n.host(), n.port())));
      var asSentinel =
          DefaultJedisClientConfig.builder()
              .timeoutMillis(10_000)
              .clientName(clientName + "-sentinel")
              .clientSetInfoConfig(ClientSetInfoConfig.DISABLED)
              .build();
      return new JedisSentinelPool(
          config.sentinel().masterName(), sentinels, poolConfig, client, asSentinel);
    }
    return new JedisPool(poolConfig, new HostAndPort(config.host(), config.port()), client);
  }

  private static DefaultJedisClientConfig client(RedisConfig config, String clientName) {
    return DefaultJedisClientConfig.builder()
        .user(config.user())
        .password(config.password())
        .ssl(config.tls())
        .sslParameters(config.tls() ? verifyHostName() : null)
        .database(config.database())
        .timeoutMillis(10_000)
        .clientName(clientName)
        // No CLIENT SETINFO: it is telemetry, exists only from Redis 7.2 on, and cannot be
        // granted to an ACL user (compose/redis/sluice.acl) on older servers.
        .clientSetInfoConfig(ClientSetInfoConfig.DISABLED)
        .build();
  }

  /**
   * Jedis checks the server certificate's chain but not its host name unless told to, which would
   * let any certificate from a trusted CA stand in for the Redis server; Lettuce and Redisson check
   * both by default.
   */
  private static SSLParameters verifyHostName() {
    SSLParameters parameters = new SSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    return parameters;
  }
}
