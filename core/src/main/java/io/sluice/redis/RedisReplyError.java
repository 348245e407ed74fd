package io.sluice.redis;

import java.util.Locale;

/**
 * The Redis error replies Sluice acts on, recognised in one place by the error code Redis puts
 * first in every error reply ({@code NOGROUP No such key ...}). Clients wrap replies in their own
 * exception types, and callers wrap those again, so {@link #of(Throwable)} looks at each cause.
 */
public enum RedisReplyError {
  /** The stream or its consumer group is missing: a band never used yet, or Redis lost it. */
  NOGROUP,
  /** The consumer group exists already: creating it again is a no-op for Sluice. */
  BUSYGROUP,
  /** Redis does not know the script's SHA (restart or SCRIPT FLUSH): load it and call again. */
  NOSCRIPT,
  /** Any other error, or none. */
  OTHER;

  /** The kind of an error reply's text, e.g. {@code "NOSCRIPT No matching script."}. */
  public static RedisReplyError of(String message) {
    if (message == null) {
      return OTHER;
    }
    String text = message.strip();
    int end = text.indexOf(' ');
    String code = (end < 0 ? text : text.substring(0, end)).toUpperCase(Locale.ROOT);
    return switch (code) {
      case "NOGROUP" -> NOGROUP;
      case "BUSYGROUP" -> BUSYGROUP;
      case "NOSCRIPT" -> NOSCRIPT;
      default -> OTHER;
    };
  }

  /** The kind of the first error reply found in {@code error} or its causes. */
  public static RedisReplyError of(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      RedisReplyError kind = of(t.getMessage());
      if (kind != OTHER) {
        return kind;
      }
    }
    return OTHER;
  }

  /** Whether {@code error} or one of its causes is this reply. */
  public boolean matches(Throwable error) {
    return of(error) == this;
  }
}
