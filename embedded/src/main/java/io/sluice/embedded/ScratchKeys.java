package io.sluice.embedded;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** Removes the Redis keys of a throw-away prefix, on a server that may be shared. */
public final class ScratchKeys {
  private ScratchKeys() {}

  /**
   * Deletes every key matching {@code prefix:*} (SCAN and UNLINK, a page at a time, so a large
   * prefix never blocks the server), and the bookkeeping keys Redisson keeps beside a lock named
   * under the prefix ({@code redisson_lock_token:prefix:…}, {@code
   * redisson_unlock_latch:prefix:…}). Keys merely starting with {@code prefix} without the colon
   * are kept.
   *
   * <p>On a cluster ({@code redis-cluster://} or {@code rediss-cluster://} with a comma-separated
   * node list) each master is scanned in turn and each key unlinked on its own, since one UNLINK of
   * keys in several slots is refused.
   *
   * @param redisUrl {@code redis://[user:password@]host:port[/db]}, or a cluster's
   * @param prefix letters and digits only, so it is never a glob pattern itself
   * @return how many keys were deleted
   */
  public static long deleteAll(String redisUrl, String prefix) {
    if (prefix == null || !prefix.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("prefix '" + prefix + "' must be letters, digits, _ . -");
    }
    String[] patterns = {prefix + ":*", "redisson_*:" + prefix + ":*"};
    long deleted = 0;
    if (redisUrl.matches("rediss?-cluster://.*")) {
      for (Jedis master : clusterMasters(redisUrl)) {
        try (master) {
          for (String pattern : patterns) {
            deleted += deleteMatching(master, pattern, true);
          }
        }
      }
      return deleted;
    }
    try (Jedis jedis = new Jedis(URI.create(redisUrl))) {
      for (String pattern : patterns) {
        deleted += deleteMatching(jedis, pattern, false);
      }
    }
    return deleted;
  }

  /**
   * A connection to each master of the cluster that {@code url} names, as the first of its nodes
   * that answers lists them.
   */
  private static List<Jedis> clusterMasters(String url) {
    URI uri =
        URI.create(url.replaceFirst("^(rediss?)-cluster://", "$1://").replaceFirst(",.*", ""));
    String[] seeds = url.replaceFirst("^[^/]*//([^@/]*@)?", "").replaceFirst("/.*", "").split(",");
    DefaultJedisClientConfig.Builder config =
        DefaultJedisClientConfig.builder().ssl(url.startsWith("rediss"));
    String info = uri.getUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      config = colon < 0 ? config.password(info) : config.user(info.substring(0, colon));
      if (colon >= 0) {
        config = config.password(info.substring(colon + 1));
      }
    }
    DefaultJedisClientConfig client = config.build();
    String nodes = null;
    RuntimeException unreachable = null;
    for (String seed : seeds) {
      int colon = seed.lastIndexOf(':');
      try (Jedis node =
          new Jedis(
              new HostAndPort(
                  seed.substring(0, colon), Integer.parseInt(seed.substring(colon + 1))),
              client)) {
        nodes = node.clusterNodes();
        break;
      } catch (RuntimeException e) {
        unreachable = e;
      }
    }
    if (nodes == null) {
      throw unreachable;
    }
    List<Jedis> masters = new ArrayList<>();
    for (String line : nodes.split("\n")) {
      String[] f = line.trim().split(" ");
      // <id> <ip:port@cport[,hostname]> <flags> …
      if (f.length > 2 && f[2].contains("master") && !f[2].contains("fail")) {
        String address = f[1].split("[@,]")[0];
        int colon = address.lastIndexOf(':');
        masters.add(
            new Jedis(
                new HostAndPort(
                    address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                client));
      }
    }
    return masters;
  }

  private static long deleteMatching(Jedis jedis, String pattern, boolean oneByOne) {
    long deleted = 0;
    ScanParams params = new ScanParams().match(pattern).count(1000);
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = jedis.scan(cursor, params);
      if (oneByOne) {
        for (String key : page.getResult()) {
          deleted += jedis.unlink(key);
        }
      } else if (!page.getResult().isEmpty()) {
        deleted += jedis.unlink(page.getResult().toArray(String[]::new));
      }
      cursor = page.getCursor();
    } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
    return deleted;
  }
}
