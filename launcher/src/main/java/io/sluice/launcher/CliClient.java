package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.SluiceException;
import io.sluice.client.RetryOnConflict;
import io.sluice.client.SluiceApiException;
import io.sluice.client.SluiceClient;
import io.sluice.client.SluiceClient.ConnectionLostException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * How the launcher uses {@link SluiceClient}: built from {@code SLUICE_API_URL} and {@code
 * SLUICE_API_TOKEN}, and its failures turned into {@link LauncherException}s that say what to do:
 * no HTTP answer at all ({@link LauncherException#UNREACHABLE}, naming the URL and the cause), or
 * the server's own error JSON with its status ({@link LauncherException#FAILED}).
 */
final class CliClient {
  /** Jackson as the launcher reads payload files: the first JSON value, nothing stricter. */
  static final ObjectMapper JSON = new ObjectMapper();

  static final String DEFAULT_URL = "http://127.0.0.1:8080";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  // A person is waiting: a few quick retries of a read, not the library's patient default.
  private static final RetryOnConflict RETRY =
      new RetryOnConflict(3, Duration.ofMillis(100), Duration.ofSeconds(1));

  private CliClient() {}

  /**
   * A client of the API at {@code url} (validated as {@link #baseUri}); {@code token} may be null.
   */
  static SluiceClient create(String url, String token) {
    return SluiceClient.create(baseUri(url), token, null, RETRY);
  }

  /**
   * {@code SLUICE_API_URL} (default {@code http://127.0.0.1:8080}) and {@code SLUICE_API_TOKEN}.
   */
  static SluiceClient fromEnv() {
    return fromEnv(System::getenv);
  }

  /** As {@link #fromEnv()}, reading the variables from {@code env}. */
  static SluiceClient fromEnv(Function<String, String> env) {
    String url = env.apply("SLUICE_API_URL");
    try {
      return create(
          url == null || url.isBlank() ? DEFAULT_URL : url.trim(), env.apply("SLUICE_API_TOKEN"));
    } catch (LauncherException e) {
      throw LauncherException.usage("SLUICE_API_URL " + e.getMessage());
    }
  }

  /** Runs one call of the coordinator's API, its failure in the launcher's words. */
  static <T> T call(SluiceClient api, Supplier<T> call) {
    return call("coordinator", api.base(), call);
  }

  /**
   * Runs one call, its failure in the launcher's words.
   *
   * @param server names who answers, for messages: {@code coordinator} or {@code worker}
   * @param shown the address a lost connection names, or null for the request's own URL
   */
  static <T> T call(String server, URI shown, Supplier<T> call) {
    try {
      return call.get();
    } catch (ConnectionLostException e) {
      // No HTTP answer at all: refused, unknown host, timed out, reset, TLS. Exit 3 means "try
      // again when it is reachable", whatever the transport's reason.
      throw unreachable(server, shown == null ? e.uri() : shown, e.getCause());
    } catch (SluiceApiException e) {
      throw refused(server, e);
    } catch (SluiceException e) {
      throw new LauncherException(LauncherException.FAILED, e.getMessage(), e);
    }
  }

  static LauncherException refused(String server, SluiceApiException e) {
    return new LauncherException(
        LauncherException.FAILED,
        "the "
            + server
            + " answered "
            + e.status()
            + " to "
            + e.method()
            + " "
            + e.path()
            + ": "
            + shown(e.rawBody())
            + (e.status() == 401
                ? " (set SLUICE_API_TOKEN to a token the coordinator accepts)"
                : ""));
  }

  static LauncherException unreachable(String server, URI url, Throwable e) {
    String hint =
        "coordinator".equals(server)
            ? " Is it running? Point SLUICE_API_URL at it."
            : " Is it running, and is its port reachable from here?";
    return new LauncherException(
        LauncherException.UNREACHABLE,
        "cannot reach the " + server + " at " + url + " (" + cause(e) + ")." + hint,
        e);
  }

  /**
   * What went wrong on the way, in words: the JDK client wraps the real reason (refused, unknown
   * host) in {@code ConnectException}s without messages.
   */
  static String cause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
        return "unknown host" + (t.getMessage() == null ? "" : " " + t.getMessage());
      }
      if (t instanceof HttpConnectTimeoutException) {
        return "no connection within " + CONNECT_TIMEOUT.toSeconds() + " s";
      }
      if (t instanceof HttpTimeoutException) {
        return "no answer within the request timeout";
      }
      if (t instanceof SSLException) {
        return "TLS failed: " + t.getMessage();
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        return t.getMessage() == null ? "connection refused" : t.getMessage();
      }
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.toString();
  }

  /** The base URL without a trailing slash; an error unless it is {@code http(s)://host[:port]}. */
  static URI baseUri(String url) {
    String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    try {
      URI uri = new URI(trimmed);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw new URISyntaxException(url, "not of the form");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new LauncherException(
          LauncherException.USAGE,
          "'" + url + "' is not a URL of the form http://host:port or https://host:port");
    }
  }

  /** The server's error JSON on one line when it sent one, else its text as it came. */
  private static String shown(String body) {
    try {
      JsonNode json = body == null || body.isBlank() ? null : JSON.readTree(body);
      return json != null && json.has("error") ? json.toString() : body;
    } catch (IOException e) {
      return body;
    }
  }
}
