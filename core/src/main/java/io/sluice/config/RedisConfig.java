package io.sluice.config;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where Redis is: {@code redis://[user:password@]host:port[/db]} or {@code rediss://} for TLS, and
 * the prefix under which every Sluice key lives.
 */
public record RedisConfig(
    String host, int port, String user, String password, boolean tls, int database, String prefix) {

  public RedisConfig {
    if (prefix == null || !prefix.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new ConfigException(
          "SLUICE_REDIS_PREFIX", prefix, "must be 1-64 letters, digits, '_', '.' or '-'");
    }
  }

  public static RedisConfig fromEnv(Env env) {
    return parse(
        env.require("SLUICE_REDIS_URL", "the Redis URL, e.g. redis://redis:6379"),
        env.get("SLUICE_REDIS_PREFIX", "sluice"));
  }

  public static RedisConfig parse(String url, String prefix) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "is not a URL");
    }
    String scheme = uri.getScheme();
    if (!"redis".equals(scheme) && !"rediss".equals(scheme)) {
      throw new ConfigException(
          "SLUICE_REDIS_URL", mask(url), "must start with redis:// or rediss://");
    }
    if (uri.getHost() == null) {
      throw new ConfigException("SLUICE_REDIS_URL", mask(url), "has no host");
    }
    String user = null;
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      if (parts.length == 2) {
        user = parts[0].isEmpty() ? null : decode(parts[0]);
        password = decode(parts[1]);
      } else {
        password = decode(parts[0]);
      }
    }
    int database = 0;
    String path = uri.getPath();
    if (path != null && path.length() > 1) {
      try {
        database = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException e) {
        throw new ConfigException("SLUICE_REDIS_URL", mask(url), "database must be a number");
      }
    }
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    return new RedisConfig(
        uri.getHost(), port, user, password, "rediss".equals(scheme), database, prefix);
  }

  /** The URL without credentials, for logs. */
  public String maskedUrl() {
    String auth = password == null ? "" : (user == null ? "" : user) + ":****@";
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
