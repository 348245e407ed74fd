package io.sluice.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Takes secrets out of text that is printed: configuration values in error messages, URLs in logs,
 * messages of startup failures. A URL keeps its scheme, host, port and path, so the message still
 * says what was wrong; its credentials ({@code user:password@}) and any password, token or key
 * parameter become {@code ****}.
 */
public final class Redact {
  /**
   * {@code scheme://user:password@} (also {@code jdbc:postgresql://…@}, {@code scheme:user:pw@}):
   * everything up to the last '@' of the word, since a password may hold '/', ':' or '@'.
   */
  private static final Pattern USER_INFO =
      Pattern.compile("((?:[A-Za-z][A-Za-z0-9+.-]*:)+(?://)?)[^\\s]*@");

  /** {@code password=...}, {@code sslpassword=...}, {@code token=...}, {@code apiKey=...}. */
  private static final Pattern SECRET_PARAMETER =
      Pattern.compile(
          "(?i)((?:^|[?&;,\\s])[A-Za-z_.-]*(?:password|passwd|pwd|secret|token|key)=)[^&;,\\s]*");

  private static final String[] SECRET_NAMES = {"PASSWORD", "TOKEN", "SECRET", "KEY"};

  private Redact() {}

  /**
   * {@code text} with URL credentials and secret parameters masked; null stays null. Safe on any
   * text, not only URLs.
   */
  public static String text(String text) {
    if (text == null) {
      return null;
    }
    String masked = USER_INFO.matcher(text).replaceAll("$1****@");
    return SECRET_PARAMETER.matcher(masked).replaceAll("$1****");
  }

  /**
   * How a configuration error may show {@code value} of {@code setting}: not at all when the
   * setting is a secret by its name, otherwise with {@link #text} applied.
   */
  public static String value(String setting, String value) {
    if (value == null) {
      return null;
    }
    String name = setting == null ? "" : setting.toUpperCase(Locale.ROOT);
    for (String secret : SECRET_NAMES) {
      if (name.contains(secret)) {
        return "(hidden)";
      }
    }
    return text(value);
  }

  /** The messages of {@code e} and its causes, redacted, for a one-line startup error. */
  public static String messages(Throwable e) {
    StringBuilder out = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (!out.isEmpty()) {
        out.append(": ");
      }
      out.append(t.getMessage() == null ? t.getClass().getSimpleName() : text(t.getMessage()));
    }
    return out.toString();
  }
}
