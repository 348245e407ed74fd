package io.sluice.config;

import io.sluice.redis.QueueShards;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where Redis is, and the prefix under which every Sluice key lives: one server, {@code
 * redis://[user:password@]host:port[/db]} or {@code rediss://} for TLS, or a master watched by
 * Redis Sentinel, {@code redis-sentinel://[user:password@]host1:port1,host2:port2/masterName[/db]}
 * (the credentials are the master's and its replicas'; the sentinels are asked without any). With
 * Sentinel, {@link #host()} and {@link #port()} are the first sentinel's and {@link #sentinel()}
 * names them all; every client asks the sentinels for the master and asks again after a failover.
 * Or a Redis Cluster by a seed list, {@code
 * redis-cluster://[user:password@]host1:port1,host2:port2} ({@code rediss-cluster://} for TLS):
 * {@link #cluster()} names the seeds, the clients discover the rest and follow slots to the replica
 * promoted after a failover; a cluster has database 0 only.
 */
public record RedisConfig(
    String host,
    int port,
    String user,
    String password,
    boolean tls,
    int database,
    String prefix,
    Sentinel sentinel,
    List<Node> cluster,
    QueueShards shards) {

  /** A master by its Sentinel name, and the sentinels that know where it is. */
  public record Sentinel(String masterName, List<Node> nodes) {
    public Sentinel {
      nodes = List.copyOf(nodes);
    }
  }

  /** A host and port. */
  public record Node(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  public RedisConfig {
    cluster = cluster == null ? null : List.copyOf(cluster);
    shards = shards == null ? QueueShards.NONE : shards;
    if (prefix == null || !prefix.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new ConfigException(
          "SLUICE_REDIS_PREFIX", prefix, "must be 1-64 letters, digits, '_', '.' or '-'");
    }
  }

  /** One Redis server. */
  public RedisConfig(
      String host,
      int port,
      String user,
      String password,
      boolean tls,
      int database,
      String prefix) {
    this(host, port, user, password, tls, database, prefix, null, null, null);
  }

  /** This configuration with queues spread over shards ({@code SLUICE_QUEUE_SHARDS}). */
  public RedisConfig withShards(QueueShards shards) {
    return new RedisConfig(
        host, port, user, password, tls, database, prefix, sentinel, cluster, shards);
  }

  /** Whether this names a Redis Cluster. */
  public boolean isCluster() {
    return cluster != null;
  }

  public static RedisConfig fromEnv(Env env) {
    return parse(
            env.require("SLUICE_REDIS_URL", "the Redis URL, e.g. redis://redis:6379"),
            env.get("SLUICE_REDIS_PREFIX", "sluice"))
        .withShards(QueueShards.parse(env.get("SLUICE_QUEUE_SHARDS")));
  }

  public static RedisConfig parse(String url, String prefix) {
    if (url != null && url.startsWith("redis-sentinel://")) {
      return parseSentinel(url, prefix);
    }
    if (url != null
        && (url.startsWith("redis-cluster://") || url.startsWith("rediss-cluster://"))) {
      return parseCluster(url, prefix);
    }
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "is not a URL");
    }
    String scheme = uri.getScheme();
    if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
      throw new ConfigException(
          "SLUICE_REDIS_URL",
          mask(url),
          "must start with redis://, rediss://, redis-sentinel://, redis-cluster:// or rediss-cluster://");
    }
    if (uri.getHost() == null) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "has no host");
    }
    String[] credentials = credentials(uri.getRawUserInfo());
    String path = uri.getPath();
    int database = path == null || path.length() <= 1 ? 0 : database(path.substring(1), url);
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    return new RedisConfig(
        uri.getHost(),
        port,
        credentials[0],
        credentials[1],
        "rediss".equals(scheme),
        database,
        prefix);
  }

  /** {@code redis-sentinel://[user:password@]h1:p1,h2:p2/masterName[/db]}. */
  private static RedisConfig parseSentinel(String url, String prefix) {
    String rest = url.substring("redis-sentinel://".length());
    int slash = rest.indexOf('/');
    String authority = slash < 0 ? rest : rest.substring(0, slash);
    String[] path = slash < 0 ? new String[0] : rest.substring(slash + 1).split("/", -1);
    int at = authority.lastIndexOf('@');
    String[] credentials = credentials(at < 0 ? null : authority.substring(0, at));
    List<Node> nodes = new ArrayList<>();
    for (String node : authority.substring(at + 1).split(",")) {
      nodes.add(node(node.trim(), url));
    }
    if (path.length == 0 || path[0].isEmpty() || path.length > 2) {
      throw new ConfigException(
          "SLUICE_REDIS_URL",
          mask(url),
          "must name the master after the sentinels: redis-sentinel://host:26379,…/mymaster[/db]");
    }
    int database = path.length == 2 ? database(path[1], url) : 0;
    Node first = nodes.get(0);
    return new RedisConfig(
        first.host(),
        first.port(),
        credentials[0],
        credentials[1],
        false,
        database,
        prefix,
        new Sentinel(decode(path[0]), nodes),
        null,
        null);
  }

  /** {@code redis-cluster://[user:password@]h1:p1,h2:p2} or {@code rediss-cluster://…}. */
  private static RedisConfig parseCluster(String url, String prefix) {
    boolean tls = url.startsWith("rediss-cluster://");
    String rest = url.substring(url.indexOf("://") + 3);
    int at = rest.lastIndexOf('@');
    String[] credentials = credentials(at < 0 ? null : rest.substring(0, at));
    String seeds = rest.substring(at + 1);
    if (seeds.endsWith("/")) {
      seeds = seeds.substring(0, seeds.length() - 1);
    }
    if (seeds.contains("/") || seeds.contains("?")) {
      throw new ConfigException(
          "SLUICE_REDIS_URL",
          mask(url),
          "a cluster URL names only its seed nodes (a cluster has database 0 only):"
              + " redis-cluster://host:6379,host2:6379");
    }
    if (seeds.isBlank()) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "names no cluster node");
    }
    List<Node> nodes = new ArrayList<>();
    for (String node : seeds.split(",", -1)) {
      nodes.add(node(node.trim(), url, "cluster node", 6379));
    }
    Node first = nodes.get(0);
    return new RedisConfig(
        first.host(),
        first.port(),
        credentials[0],
        credentials[1],
        tls,
        0,
        prefix,
        null,
        nodes,
        null);
  }

  private static Node node(String text, String url) {
    return node(text, url, "sentinel", 26379);
  }

  private static Node node(String text, String url, String what, int defaultPort) {
    int colon = text.lastIndexOf(':');
    String host = colon < 0 ? text : text.substring(0, colon);
    if (host.isEmpty()) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "has a " + what + " without a host");
    }
    if (colon < 0) {
      return new Node(host, defaultPort);
    }
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return new Node(host, port);
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "SLUICE_REDIS_URL", mask(url), what + " port of " + host + " must be 1-65535");
    }
  }

  /** {user, password} of a URL's raw user info; either may be null. */
  private static String[] credentials(String rawUserInfo) {
    if (rawUserInfo == null) {
      return new String[2];
    }
    String[] parts = rawUserInfo.split(":", 2);
    if (parts.length == 2) {
      return new String[] {parts[0].isEmpty() ? null : decode(parts[0]), decode(parts[1])};
    }
    return new String[] {null, decode(parts[0])};
  }

  private static int database(String text, String url) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "database must be a number");
    }
  }

  /** The URL without credentials, for logs. */
  public String maskedUrl() {
    String auth = password == null ? "" : (user == null ? "" : user) + ":****@";
    if (cluster != null) {
      return (tls ? "rediss-cluster://" : "redis-cluster://")
          + auth
          + cluster.stream().map(Node::toString).collect(Collectors.joining(","));
    }
    if (sentinel != null) {
      return "redis-sentinel://"
          + auth
          + sentinel.nodes().stream().map(Node::toString).collect(Collectors.joining(","))
          + "/"
          + sentinel.masterName()
          + "/"
          + database;
    }
    return (tls ? "rediss://" : "redis://") + auth + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "RedisConfig[url=" + maskedUrl() + ", prefix=" + prefix + "]";
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static String mask(String url) {
    return Redact.text(url);
  }
}
