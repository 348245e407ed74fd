package io.sluice.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

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
}
