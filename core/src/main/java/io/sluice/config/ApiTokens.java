package io.sluice.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API tokens, kept only as SHA-256 digests and compared in constant time. Configured as {@code
 * tenant:token} pairs (or bare tokens, tenant {@code default}), comma-separated.
 */
public final class ApiTokens {
  private record Entry(String tenant, byte[] digest) {}

  private final List<Entry> entries;

  private ApiTokens(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** No tokens at all: every token is refused. */
  public static final ApiTokens NONE = new ApiTokens(List.of());

  /** Parses {@code SLUICE_API_TOKENS}; a bare token's tenant is {@code default}. */
  public static ApiTokens parse(String spec) {
    return parse("SLUICE_API_TOKENS", spec, "default");
  }

  /**
   * Parses the token list of {@code setting}; a bare token's tenant is {@code bareTenant}. Errors
   * never repeat a token.
   */
  public static ApiTokens parse(String setting, String spec, String bareTenant) {
    List<Entry> entries = new ArrayList<>();
    String[] items = spec.split(",");
    for (int i = 0; i < items.length; i++) {
      String item = items[i].trim();
      if (item.isEmpty()) {
        continue;
      }
      int colon = item.indexOf(':');
      String tenant = colon < 0 ? bareTenant : item.substring(0, colon).trim();
      String token = colon < 0 ? item : item.substring(colon + 1).trim();
      if (token.length() < 8) {
        throw new ConfigException(
            setting,
            "(hidden)",
            "the token of entry " + (i + 1) + " is shorter than 8 characters; each must be longer");
      }
      if (!tenant.matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new ConfigException(
            setting,
            "(hidden)",
            "the tenant (before ':') of entry "
                + (i + 1)
                + " must be 1-64 letters, digits, '_', '.' or '-'");
      }
      entries.add(new Entry(tenant, sha256(token)));
    }
    if (entries.isEmpty()) {
      throw new ConfigException(setting, "(empty)", "must name at least one token");
    }
    return new ApiTokens(entries);
  }

  /** The tenant the token belongs to; every entry is compared, so timing does not reveal which. */
  public Optional<String> tenantOf(String presented) {
    if (presented == null) {
      return Optional.empty();
    }
    byte[] digest = sha256(presented);
    String match = null;
    for (Entry e : entries) {
      if (MessageDigest.isEqual(e.digest(), digest)) {
        match = e.tenant();
      }
    }
    return Optional.ofNullable(match);
  }

  public int size() {
    return entries.size();
  }

  private static byte[] sha256(String token) {
    return Sha256.of(token.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return entries.size()
        + " token(s), tenants "
        + entries.stream().map(Entry::tenant).distinct().toList();
  }
}
