package io.sluice.embedded;

import java.net.URI;
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
   * @param redisUrl {@code redis://[user:password@]host:port[/db]}
   * @param prefix letters and digits only, so it is never a glob pattern itself
   * @return how many keys were deleted
   */
  public static long deleteAll(String redisUrl, String prefix) {
    if (prefix == null || !prefix.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("prefix '" + prefix + "' must be letters, digits, _ . -");
    }
    long deleted = 0;
    try (Jedis jedis = new Jedis(URI.create(redisUrl))) {
      for (String pattern : new String[] {prefix + ":*", "redisson_*:" + prefix + ":*"}) {
        deleted += deleteMatching(jedis, pattern);
      }
    }
    return deleted;
  }

  private static long deleteMatching(Jedis jedis, String pattern) {
    long deleted = 0;
    ScanParams params = new ScanParams().match(pattern).count(1000);
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = jedis.scan(cursor, params);
      if (!page.getResult().isEmpty()) {
        deleted += jedis.unlink(page.getResult().toArray(String[]::new));
      }
      cursor = page.getCursor();
    } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
    return deleted;
  }
}
