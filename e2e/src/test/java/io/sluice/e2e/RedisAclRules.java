package io.sluice.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;

/**
 * The ACL rules of {@code compose/redis/sluice.acl}, the ones the compose file's Redis gives its
 * {@code sluice} user, with a test's key prefix in place of {@code sluice} in key and channel
 * patterns.
 */
final class RedisAclRules {
  private RedisAclRules() {}

  static List<String> forPrefix(String prefix) {
    try {
      return Files.readAllLines(ProjectFiles.find("compose/redis/sluice.acl")).stream()
          .map(line -> line.replaceFirst("#.*", "").trim())
          .filter(line -> !line.isEmpty())
          .flatMap(line -> Arrays.stream(line.split("\\s+")))
          .map(
              rule ->
                  rule.startsWith("~") || rule.startsWith("&")
                      ? rule.replace("sluice:", prefix + ":")
                      : rule)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * What the server refused since the last {@code ACL LOG RESET}, one line per entry (reason,
   * context, object, username); read raw because Jedis' parser expects Redis 7.2's fields. Closes
   * {@code admin}.
   */
  static List<String> denials(Jedis admin) {
    try (admin) {
      List<?> entries = (List<?>) admin.sendCommand(Protocol.Command.ACL, "LOG");
      return entries.stream().map(RedisAclRules::text).toList();
    }
  }

  private static String text(Object reply) {
    if (reply instanceof byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
    if (reply instanceof List<?> list) {
      return list.stream().map(RedisAclRules::text).toList().toString();
    }
    return String.valueOf(reply);
  }
}
