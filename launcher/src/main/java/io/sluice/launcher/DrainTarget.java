package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where {@code ./sluice drain} posts: a worker's {@code POST /admin/drain} on its own port, given
 * as a URL or found by worker id in {@code GET /api/v1/workers}. A worker's heartbeat records its
 * port ({@code info.port}) but not its address, so a worker found by id is reached on the host
 * given by {@code --host}, by default the coordinator's: right for {@code ./sluice dev} and
 * one-host setups; in containers give the worker's URL.
 *
 * @param workerId the worker's id, or null when given by URL
 * @param url the drain URL
 */
record DrainTarget(String workerId, URI url) {
  static final String PATH = "/admin/drain";

  static boolean isUrl(String target) {
    return target.startsWith("http://") || target.startsWith("https://");
  }

  /** {@code http://host:port}, with or without {@code /admin/drain}. */
  static DrainTarget ofUrl(String target) {
    URI base = CliClient.baseUri(target);
    String path = base.getPath() == null ? "" : base.getPath();
    return new DrainTarget(null, URI.create(base + (path.endsWith(PATH) ? "" : PATH)));
  }

  /**
   * @param workers the body of {@code GET /api/v1/workers}
   * @param host where the worker listens
   * @throws LauncherException unless the listing names a live worker with a port
   */
  static DrainTarget ofWorker(String id, JsonNode workers, String host) {
    JsonNode items = workers.path("items");
    for (JsonNode node : items) {
      if (!id.equals(node.path("id").asText())) {
        continue;
      }
      String kind = node.path("kind").asText();
      String status = node.path("status").asText();
      int port = node.path("info").path("port").asInt(0);
      if (!"worker".equals(kind)) {
        throw failed(id + " is a " + kind + ", not a worker; only workers drain");
      }
      if ("DEAD".equals(status)) {
        throw failed(
            "worker "
                + id
                + " is DEAD (last heartbeat "
                + ClientOutput.age(node.path("heartbeatAgeMs").asLong(-1))
                + "): there is nothing to drain");
      }
      if (port <= 0) {
        throw failed("worker " + id + " does not report its HTTP port; drain it by URL");
      }
      return new DrainTarget(id, url(host, port));
    }
    throw failed(
        "the coordinator lists no worker '"
            + id
            + "' among its "
            + items.size()
            + " nodes; ./sluice workers shows them");
  }

  private static URI url(String host, int port) {
    try {
      return new URI("http", null, host, port, PATH, null, null);
    } catch (URISyntaxException e) {
      throw LauncherException.usage("--host " + host + " is not a host name or address");
    }
  }

  private static LauncherException failed(String message) {
    return new LauncherException(LauncherException.FAILED, message);
  }
}
