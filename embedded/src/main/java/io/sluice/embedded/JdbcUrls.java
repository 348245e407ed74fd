package io.sluice.embedded;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and rewrites PostgreSQL JDBC URLs of the form {@code
 * jdbc:postgresql://host:port/db?k=v&...}.
 */
public final class JdbcUrls {
  private static final Pattern URL =
      Pattern.compile("(jdbc:postgresql://[^/?]*)(?:/([^?]*))?(\\?.*)?");

  private JdbcUrls() {}

  /**
   * @param url a PostgreSQL JDBC URL
   * @param database another database name
   * @return the same URL, parameters included, naming {@code database}
   * @throws IllegalArgumentException if {@code url} is not a {@code jdbc:postgresql://} URL
   */
  public static String withDatabase(String url, String database) {
    Matcher m = match(url);
    return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
  }

  /**
   * @param url a PostgreSQL JDBC URL
   * @return its database name, or null when it names none
   */
  public static String database(String url) {
    Matcher m = match(url);
    return m.group(2) == null || m.group(2).isEmpty() ? null : m.group(2);
  }

  /**
   * @param url a PostgreSQL JDBC URL
   * @param name a parameter name such as {@code user}
   * @return the decoded parameter value, or null
   */
  public static String parameter(String url, String name) {
    String query = match(url).group(3);
    if (query == null) {
      return null;
    }
    for (String pair : query.substring(1).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  /**
   * @param url a JDBC URL or null
   * @return the URL with any password parameter replaced by {@code ****}, for messages
   */
  public static String masked(String url) {
    // Credentials before the host (postgres://user:password@host, a common slip) go too; up to the
    // last '@', since a password may hold '/' or '@'.
    return url == null
        ? null
        : url.replaceAll("(?i)(password=)[^&]*", "$1****")
            .replaceAll("((?:[A-Za-z][A-Za-z0-9+.-]*:)+(?://)?)\\S*@", "$1****@");
  }

  private static Matcher match(String url) {
    Matcher m = URL.matcher(url);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + masked(url) + "' is not a JDBC URL like jdbc:postgresql://host:5432/postgres");
    }
    return m;
  }
}
