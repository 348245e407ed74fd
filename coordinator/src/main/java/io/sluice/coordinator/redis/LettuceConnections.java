package io.sluice.coordinator.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.sluice.SluiceException;
import io.sluice.config.RedisConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The coordinator's Lettuce connections: one shared, auto-pipelined asynchronous connection for
 * commands, and a client without auto-reconnect for blocking readers, each on a connection of its
 * own.
 */
final class LettuceConnections implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final RedisConfig config;
  private final RedisClient client;
  private final RedisClient listenerClient;
  private final StatefulRedisConnection<String, String> connection;

  LettuceConnections(RedisConfig config) {
    this.config = config;
    RedisURI.Builder uri =
        server(config)
            .withDatabase(config.database())
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
    this.client = RedisClient.create(uri.build());
    // Listeners must notice a lost connection rather than be silently reconnected mid-command, so
    // the supervisor sees the failure, counts it, and restarts the loop on a fresh connection.
    this.listenerClient = RedisClient.create(uri.build());
    listenerClient.setOptions(ClientOptions.builder().autoReconnect(false).build());
    this.connection = client.connect();
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
   * The server written to: the configured one, or the master the first sentinel that answers names
   * now (asked on a connection of its own, closed again; Sentinel commands need no data ACL).
   */
  String master() {
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
      try (StatefulRedisSentinelConnection<String, String> c = client.connectSentinel(uri)) {
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

  RedisAsyncCommands<String, String> async() {
    return connection.async();
  }

  /** A connection of its own for blocking reads, named {@code clientName} in CLIENT LIST. */
  StatefulRedisConnection<String, String> openBlocking(String clientName) {
    StatefulRedisConnection<String, String> blocking = listenerClient.connect();
    blocking.sync().clientSetname(clientName);
    return blocking;
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
