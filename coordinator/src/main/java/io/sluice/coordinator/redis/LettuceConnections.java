package io.sluice.coordinator.redis;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.sluice.SluiceException;
import io.sluice.config.RedisConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The coordinator's Lettuce connections: one shared, auto-pipelined asynchronous connection for
 * commands, and a client without auto-reconnect for blocking readers, each on a connection of its
 * own. Against a Redis Cluster both are cluster connections, which route each command (and each
 * command of a pipelined batch) to the master of its key's slot; the code above them sees the
 * commands interfaces the standalone and cluster connections share.
 */
final class LettuceConnections implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** A blocking reader's connection: its commands and how to close it. */
  record Blocking(RedisClusterCommands<String, String> sync, StatefulConnection<?, ?> connection) {}

  private final RedisConfig config;
  private final AbstractRedisClient client;
  private final AbstractRedisClient listenerClient;
  private final StatefulConnection<String, String> connection;
  private final RedisClusterAsyncCommands<String, String> async;

  LettuceConnections(RedisConfig config) {
    this.config = config;
    if (config.isCluster()) {
      List<RedisURI> seeds =
          config.cluster().stream().map(n -> uri(config, seed(config, n)).build()).toList();
      RedisClusterClient cluster = RedisClusterClient.create(seeds);
      cluster.setOptions(clusterOptions(true));
      RedisClusterClient listeners = RedisClusterClient.create(seeds);
      listeners.setOptions(clusterOptions(false));
      StatefulRedisClusterConnection<String, String> c = cluster.connect();
      this.client = cluster;
      this.listenerClient = listeners;
      this.connection = c;
      this.async = c.async();
      return;
    }
    RedisURI.Builder uri = uri(config, server(config));
    RedisClient single = RedisClient.create(uri.build());
    // Listeners must notice a lost connection rather than be silently reconnected mid-command, so
    // the supervisor sees the failure, counts it, and restarts the loop on a fresh connection.
    RedisClient listeners = RedisClient.create(uri.build());
    listeners.setOptions(ClientOptions.builder().autoReconnect(false).build());
    StatefulRedisConnection<String, String> c = single.connect();
    this.client = single;
    this.listenerClient = listeners;
    this.connection = c;
    this.async = c.async();
  }

  private static RedisURI.Builder uri(RedisConfig config, RedisURI.Builder uri) {
    uri.withDatabase(config.database())
        .withTimeout(TIMEOUT)
        // No CLIENT SETINFO: it is telemetry, exists only from Redis 7.2 on, and cannot be
        // granted to an ACL user (compose/redis/sluice.acl) on older servers.
        .withLibraryName("")
        .withLibraryVersion("");
    if (config.password() != null) {
      if (config.user() != null) {
        uri.withAuthentication(config.user(), config.password().toCharArray());
      } else {
        uri.withPassword(config.password().toCharArray());
      }
    }
    return uri;
  }

  private static RedisURI.Builder seed(RedisConfig config, RedisConfig.Node node) {
    return RedisURI.builder().withHost(node.host()).withPort(node.port()).withSsl(config.tls());
  }

  /**
   * The slot map is refreshed when a node answers MOVED or ASK, or a connection fails (a master
   * died and its replica took its slots), and every few seconds in any case. A command for a node
   * that is disconnected fails at once rather than waiting in that node's buffer for a reconnect
   * that never comes (a dead master): the caller's retry is routed by the refreshed slot map.
   */
  private static ClusterClientOptions clusterOptions(boolean autoReconnect) {
    ClusterTopologyRefreshOptions refresh =
        ClusterTopologyRefreshOptions.builder()
            .enableAllAdaptiveRefreshTriggers()
            .adaptiveRefreshTriggersTimeout(Duration.ofMillis(500))
            .enablePeriodicRefresh(Duration.ofSeconds(5))
            .build();
    return ClusterClientOptions.builder()
        .topologyRefreshOptions(refresh)
        .autoReconnect(autoReconnect)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .validateClusterNodeMembership(false)
        .build();
  }

  /**
   * The server, or with Sentinel the master by name: Lettuce asks the sentinels at each connect.
   */
  private static RedisURI.Builder server(RedisConfig config) {
    RedisConfig.Sentinel sentinel = config.sentinel();
    if (sentinel == null) {
      return RedisURI.builder()
          .withHost(config.host())
          .withPort(config.port())
          .withSsl(config.tls());
    }
    RedisConfig.Node first = sentinel.nodes().get(0);
    RedisURI.Builder uri =
        RedisURI.Builder.sentinel(first.host(), first.port(), sentinel.masterName());
    sentinel.nodes().stream().skip(1).forEach(n -> uri.withSentinel(n.host(), n.port()));
    return uri;
  }

  /**
   * The servers written to: the configured one; with Sentinel the master the first sentinel that
   * answers names now (asked on a connection of its own, closed again; Sentinel commands need no
   * data ACL); in a cluster every master with the first slot it serves, from a fresh CLUSTER NODES,
   * so a failover of any master changes the answer.
   */
  String master() {
    if (client instanceof RedisClusterClient cluster) {
      cluster.refreshPartitions();
      return cluster.getPartitions().stream()
          .filter(n -> n.is(RedisClusterNode.NodeFlag.UPSTREAM) && !n.getSlots().isEmpty())
          .sorted(Comparator.comparingInt(n -> n.getSlots().get(0)))
          .map(n -> n.getSlots().get(0) + "@" + n.getUri().getHost() + ":" + n.getUri().getPort())
          .collect(Collectors.joining(","));
    }
    RedisConfig.Sentinel sentinel = config.sentinel();
    if (sentinel == null) {
      return config.host() + ":" + config.port();
    }
    SluiceException last = null;
    for (RedisConfig.Node node : sentinel.nodes()) {
      RedisURI uri =
          RedisURI.builder()
              .withHost(node.host())
              .withPort(node.port())
              .withTimeout(TIMEOUT)
              .build();
      try (StatefulRedisSentinelConnection<String, String> c =
          ((RedisClient) client).connectSentinel(uri)) {
        SocketAddress address = c.sync().getMasterAddrByName(sentinel.masterName());
        if (address instanceof InetSocketAddress inet) {
          return inet.getHostString() + ":" + inet.getPort();
        }
      } catch (RuntimeException e) {
        last =
            new SluiceException(
                "sentinel " + node + " did not name the master: " + e.getMessage(), e);
      }
    }
    throw last != null
        ? last
        : new SluiceException("no sentinel knows master " + sentinel.masterName());
  }

  RedisClusterAsyncCommands<String, String> async() {
    return async;
  }

  /**
   * A connection of its own for blocking reads, named {@code clientName} in CLIENT LIST (in a
   * cluster, on each node it reaches).
   */
  Blocking openBlocking(String clientName) {
    if (listenerClient instanceof RedisClusterClient cluster) {
      StatefulRedisClusterConnection<String, String> blocking = cluster.connect();
      blocking.sync().clientSetname(clientName);
      return new Blocking(blocking.sync(), blocking);
    }
    StatefulRedisConnection<String, String> blocking = ((RedisClient) listenerClient).connect();
    blocking.sync().clientSetname(clientName);
    return new Blocking(blocking.sync(), blocking);
  }

  /** Whether reads and scripts must keep to one slot each (a Redis Cluster). */
  boolean cluster() {
    return config.isCluster();
  }

  /** The result of a command, or a SluiceException whose cause is the client's error. */
  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new SluiceException("Redis call failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new SluiceException("Redis did not answer within " + TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SluiceException("interrupted while waiting for Redis", e);
    }
  }

  /** The cause a future failed with, unwrapped. */
  static Throwable cause(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
    listenerClient.shutdown();
  }
}
