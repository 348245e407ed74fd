package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigException;
import io.sluice.store.NewJob;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where callbacks may go. A tenant names the URL, so Sluice must not become its probe of the
 * internal network: an address that is loopback, private (RFC 1918, unique-local), link-local
 * (cloud metadata at 169.254.169.254 among them), shared (100.64/10), unspecified or multicast is
 * refused unless {@code SLUICE_WEBHOOK_ALLOW} lists it (a CIDR range, an address, or a host name
 * the operator vouches for). A literal address or {@code localhost} is refused at submit; a name is
 * resolved before every delivery and refused if any of its addresses is (redirects are not
 * followed).
 */
final class WebhookTargets {
  static final Set<String> EVENTS = Set.of("finished", "succeeded", "failed", "cancelled");
  private static final int MAX_URL = 2048;

  private record Range(byte[] network, int bits) {}

  /** Resolves a host; tests stand in for DNS. */
  interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  private final List<Range> ranges;
  private final Set<String> hosts;
  private final String spec;

  private WebhookTargets(List<Range> ranges, Set<String> hosts, String spec) {
    this.ranges = List.copyOf(ranges);
    this.hosts = Set.copyOf(hosts);
    this.spec = spec;
  }

  /** {@code SLUICE_WEBHOOK_ALLOW}: comma-separated CIDR ranges, addresses and host names. */
  static WebhookTargets parse(String spec) {
    List<Range> ranges = new ArrayList<>();
    Set<String> hosts = new LinkedHashSet<>();
    for (String raw : spec == null ? new String[0] : spec.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      int slash = entry.indexOf('/');
      String address = slash < 0 ? entry : entry.substring(0, slash);
      if (!looksLikeAddress(address)) {
        if (slash >= 0 || !entry.matches("[A-Za-z0-9.-]{1,253}")) {
          throw new ConfigException(
              "SLUICE_WEBHOOK_ALLOW", entry, "is neither a CIDR range, an address nor a host name");
        }
        hosts.add(entry.toLowerCase(Locale.ROOT));
        continue;
      }
      byte[] network = literal(address);
      int max = network.length * 8;
      int bits;
      try {
        bits = slash < 0 ? max : Integer.parseInt(entry.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (network == null || bits < 0 || bits > max) {
        throw new ConfigException(
            "SLUICE_WEBHOOK_ALLOW", entry, "is not a CIDR range (prefix 0-" + max + ")");
      }
      ranges.add(new Range(network, bits));
    }
    return new WebhookTargets(ranges, hosts, spec == null ? "" : spec.trim());
  }

  /**
   * A submit body's {@code callback}: {@code {"url": "https://…", "events"?: [...]}} (events
   * default {@code ["finished"]}); null when absent. Says what is wrong as a 400 naming the field.
   */
  static NewJob.Callback parseCallback(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isObject()) {
      throw bad("callback must be an object {\"url\": …, \"events\": […]}", "callback");
    }
    node.fieldNames()
        .forEachRemaining(
            f -> {
              if (!f.equals("url") && !f.equals("events")) {
                throw bad("unknown field '" + f + "' in callback", "callback." + f);
              }
            });
    JsonNode url = node.get("url");
    if (url == null || !url.isTextual() || url.textValue().length() > MAX_URL) {
      throw bad(
          "callback.url must be an http or https URL of at most " + MAX_URL + " characters",
          "callback.url");
    }
    URI uri = uri(url.textValue());
    List<String> events = new ArrayList<>();
    JsonNode list = node.get("events");
    if (list == null || list.isNull()) {
      events.add("finished");
    } else {
      if (!list.isArray() || list.isEmpty()) {
        throw bad("callback.events must be a non-empty array of " + EVENTS, "callback.events");
      }
      for (JsonNode e : list) {
        if (!e.isTextual() || !EVENTS.contains(e.textValue()) || events.contains(e.textValue())) {
          throw bad(
              "callback.events must hold distinct values of " + EVENTS + ", got " + e,
              "callback.events");
        }
        events.add(e.textValue());
      }
    }
    return new NewJob.Callback(uri.toString(), events);
  }

  /**
   * At submit: a URL whose host is a literal address (or {@code localhost}) that is not public and
   * not allowed gets 400; names are checked again at each delivery.
   */
  void admit(NewJob.Callback callback) {
    String host = host(URI.create(callback.url()));
    if (allowedHost(host)) {
      return;
    }
    byte[] literal = looksLikeAddress(host) ? literal(host) : null;
    if (host.equals("localhost") || host.endsWith(".localhost")) {
      literal = new byte[] {127, 0, 0, 1};
    }
    if (literal != null && !isPublic(literal) && !inRanges(literal)) {
      throw bad(
          "callback.url points at "
              + host
              + ", a loopback, private or link-local address; callbacks go there only when"
              + " SLUICE_WEBHOOK_ALLOW lists it",
          "callback.url");
    }
  }

  /**
   * Before a delivery: the addresses {@code url}'s host has now, or why it may not be called.
   *
   * @throws Blocked when any address is neither public nor allowed, or the name does not resolve
   */
  void checkDelivery(String url, Resolver resolver) {
    String host = host(URI.create(url));
    if (allowedHost(host)) {
      return;
    }
    InetAddress[] addresses;
    try {
      addresses = resolver.resolve(host);
    } catch (UnknownHostException e) {
      throw new Blocked("host " + host + " does not resolve", true);
    }
    for (InetAddress a : addresses) {
      byte[] bytes = a.getAddress();
      if (!isPublic(bytes) && !inRanges(bytes)) {
        throw new Blocked(
            "blocked: "
                + host
                + " resolves to "
                + a.getHostAddress()
                + ", which is not public and not in SLUICE_WEBHOOK_ALLOW",
            false);
      }
    }
  }

  /** A delivery that must not be sent; {@code retry} when it may resolve differently later. */
  static final class Blocked extends RuntimeException {
    final boolean retry;

    Blocked(String message, boolean retry) {
      super(message, null, false, false);
      this.retry = retry;
    }
  }

  @Override
  public String toString() {
    return spec.isEmpty() ? "public addresses only" : "public addresses and " + spec;
  }

  private boolean allowedHost(String host) {
    return hosts.contains(host);
  }

  private boolean inRanges(byte[] address) {
    for (Range r : ranges) {
      if (r.network().length == address.length && prefixMatches(r.network(), address, r.bits())) {
        return true;
      }
    }
    return false;
  }

  private static boolean prefixMatches(byte[] network, byte[] address, int bits) {
    if (bits == 0) {
      return true;
    }
    int shift = network.length * 8 - bits;
    return new BigInteger(1, network)
        .shiftRight(shift)
        .equals(new BigInteger(1, address).shiftRight(shift));
  }

  /** Whether an address may be called without being allowed: none of the reserved kinds. */
  static boolean isPublic(byte[] a) {
    InetAddress address;
    try {
      address = InetAddress.getByAddress(a);
    } catch (UnknownHostException e) {
      return false;
    }
    if (address.isLoopbackAddress()
        || address.isSiteLocalAddress()
        || address.isLinkLocalAddress()
        || address.isAnyLocalAddress()
        || address.isMulticastAddress()) {
      return false;
    }
    if (a.length == 4) {
      int first = a[0] & 0xff;
      int second = a[1] & 0xff;
      return first != 0 && !(first == 100 && second >= 64 && second < 128); // 0/8, 100.64/10
    }
    int top = a[0] & 0xff;
    return (top & 0xfe) != 0xfc; // fc00::/7 unique-local
  }

  private static URI uri(String text) {
    URI uri;
    try {
      uri = new URI(text);
    } catch (Exception e) {
      throw bad("callback.url is not a URL: " + text, "callback.url");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || uri.getHost() == null) {
      throw bad("callback.url must be an absolute http or https URL with a host", "callback.url");
    }
    if (uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
      throw bad("callback.url must not carry credentials or a fragment", "callback.url");
    }
    return uri;
  }

  private static String host(URI uri) {
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static boolean looksLikeAddress(String s) {
    return s.contains(":") || s.matches("[0-9.]+");
  }

  /** The bytes of a literal IPv4 or IPv6 address, without any name lookup; null if not one. */
  private static byte[] literal(String s) {
    if (s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
      byte[] b = new byte[4];
      String[] parts = s.split("\\.");
      for (int i = 0; i < 4; i++) {
        int v = Integer.parseInt(parts[i]);
        if (v > 255) {
          return null;
        }
        b[i] = (byte) v;
      }
      return b;
    }
    if (s.contains(":") && s.matches("[0-9A-Fa-f:.]+")) {
      try {
        return InetAddress.getByName(s).getAddress(); // a literal: no lookup happens
      } catch (UnknownHostException e) {
        return null;
      }
    }
    return null;
  }

  private static ApiException bad(String message, String field) {
    return new ApiException(400, message).with("field", field);
  }
}
