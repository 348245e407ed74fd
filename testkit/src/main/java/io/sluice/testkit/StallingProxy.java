package io.sluice.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy on 127.0.0.1 in front of a PostgreSQL server that can be told to stop answering, the
 * way a half-open connection does (a peer that vanished without a reset, a dropped NAT entry): the
 * client's bytes are taken and dropped and nothing comes back, so a client without timeouts waits
 * forever. {@link #stall()} makes every connection open now silent for good; connections opened
 * while stalled are silent too; after {@link #resume()} new connections are forwarded again.
 */
public final class StallingProxy implements AutoCloseable {
  private static final Pattern JDBC =
      Pattern.compile("jdbc:postgresql://([^/:?]+)(?::(\\d+))?(/.*)?");

  private final String targetHost;
  private final int targetPort;
  private final String urlRest;
  private final ServerSocket server;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private volatile boolean stalled;

  private StallingProxy(String targetHost, int targetPort, String urlRest) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.urlRest = urlRest;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "stalling-proxy-accept");
    accept.setDaemon(true);
    accept.start();
  }

  /**
   * Starts a proxy in front of the server a JDBC URL names.
   *
   * @param jdbcUrl a {@code jdbc:postgresql://host[:port]/db...} URL
   * @return the running proxy
   */
  public static StallingProxy inFrontOf(String jdbcUrl) {
    Matcher m = JDBC.matcher(jdbcUrl);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a single-host PostgreSQL JDBC URL");
    }
    try {
      return new StallingProxy(
          m.group(1),
          m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)),
          m.group(3) == null ? "/" : m.group(3));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The JDBC URL that reaches the same database through this proxy.
   *
   * @return the URL, with the proxy's address in place of the server's
   */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + urlRest;
  }

  /** Every connection open now stops answering, for good; so do new ones until resumed. */
  public void stall() {
    stalled = true;
    links.forEach(link -> link.silent = true);
  }

  /** New connections are forwarded again; those silenced stay silent. */
  public void resume() {
    stalled = false;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
        Link link = new Link(client, upstream, stalled);
        links.add(link);
        pump(link, client, upstream, true);
        pump(link, upstream, client, false);
      } catch (IOException e) {
        // The server socket was closed, or the target refused one connection: go on or stop.
      }
    }
  }

  private static void pump(Link link, Socket from, Socket to, boolean fromClient) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                  if (!link.silent) {
                    out.write(buffer, 0, n);
                    out.flush();
                  }
                }
              } catch (IOException e) {
                // One side closed.
              }
              link.ended(fromClient);
            },
            fromClient ? "stalling-proxy-up" : "stalling-proxy-down");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // Closing anyway.
    }
    links.forEach(link -> link.ended(true));
  }

  private static final class Link {
    private final Socket client;
    private final Socket upstream;
    private volatile boolean silent;

    Link(Socket client, Socket upstream, boolean silent) {
      this.client = client;
      this.upstream = upstream;
      this.silent = silent;
    }

    /**
     * One side ended. A silent link keeps the client's side open until the client itself gives up:
     * that is the half-open connection, which tells the client nothing.
     */
    void ended(boolean byClient) {
      closeQuietly(upstream);
      if (byClient || !silent) {
        closeQuietly(client);
      }
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException ignored) {
        // Already closed.
      }
    }
  }
}
