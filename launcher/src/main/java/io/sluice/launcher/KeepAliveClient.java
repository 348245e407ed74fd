package io.sluice.launcher;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The load generator's HTTP/1.1 client: one request, prepared once as bytes, sent over blocking
 * keep-alive sockets on the caller's (virtual) thread. A call takes an idle connection or opens a
 * new one, so connections grow with the requests in flight, as a real client fleet's would. It
 * exists because the JDK {@code HttpClient} spent 1.5–1.9 ms of CPU per request here (its selector
 * thread, futures and body subscribers), a whole core at 500 requests/s on a two-core machine that
 * also runs the server under test; this spends a small fraction of that (BENCHMARKS.md).
 *
 * <p>A request that fails is not sent again: a POST whose answer was lost may have been stored, and
 * the bench counts it as an error instead of guessing. A connection the server closes (or answers
 * with {@code Connection: close}) is dropped.
 */
final class KeepAliveClient implements AutoCloseable {
  /** An answer: its status and body. */
  record Answer(int status, String body) {}

  private final InetSocketAddress address;
  private final byte[] request;
  private final int timeoutMillis;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private volatile boolean closed;

  /**
   * @param uri where to POST
   * @param headers extra header lines, each {@code "Name: value"}
   * @param body the request body, sent as {@code application/json}
   */
  KeepAliveClient(URI uri, String body, Duration timeout, String... headers) {
    if (!"http".equals(uri.getScheme())) {
      throw new IllegalArgumentException("the bench's client speaks plain http only: " + uri);
    }
    this.address = new InetSocketAddress(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort());
    byte[] payload = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder();
    head.append("POST ")
        .append(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
        .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())
        .append(" HTTP/1.1\r\nHost: ")
        .append(uri.getHost())
        .append(':')
        .append(address.getPort())
        .append("\r\nContent-Type: application/json\r\nAccept: application/json\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
    this.request = new byte[h.length + payload.length];
    System.arraycopy(h, 0, request, 0, h.length);
    System.arraycopy(payload, 0, request, h.length, payload.length);
    this.timeoutMillis = Math.toIntExact(timeout.toMillis());
  }

  /** Sends the request once and reads the answer; an {@link IOException} when none came. */
  Answer send() throws IOException {
    Connection c = idle.pollFirst();
    if (c == null) {
      c = new Connection(address, timeoutMillis);
    }
    Answer answer;
    boolean keep;
    try {
      c.out.write(request);
      c.out.flush();
      Response r = Response.read(c.in);
      answer = new Answer(r.status, r.body);
      keep = r.keepAlive;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    if (keep && !closed) {
      idle.offerFirst(c);
    } else {
      c.close();
    }
    return answer;
  }

  /** Connections opened so far and still idle: for tests. */
  int idleConnections() {
    return idle.size();
  }

  @Override
  public void close() {
    closed = true;
    Connection c;
    while ((c = idle.pollFirst()) != null) {
      c.close();
    }
  }

  private static final class Connection {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Connection(InetSocketAddress address, int timeoutMillis) throws IOException {
      socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(address, Math.min(timeoutMillis, 5_000));
        socket.setSoTimeout(timeoutMillis);
        in = new BufferedInputStream(socket.getInputStream(), 8192);
        out = socket.getOutputStream();
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException e) {
        // Nothing to do: the connection is dropped either way.
      }
    }
  }

  /** One HTTP/1.1 response: status line, headers, a body by Content-Length or chunked. */
  record Response(int status, String body, boolean keepAlive) {
    static Response read(InputStream in) throws IOException {
      String statusLine = line(in);
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP/1.x answer: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      boolean keepAlive = parts[0].equals("HTTP/1.1");
      long length = -1;
      boolean chunked = false;
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        int colon = h.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
          case "connection" -> keepAlive = !value.equalsIgnoreCase("close");
          default -> {}
        }
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (chunked) {
        for (long size = chunkSize(line(in)); size > 0; size = chunkSize(line(in))) {
          copy(in, body, size);
          line(in);
        }
        while (!line(in).isEmpty()) {
          // Trailer fields: none expected, read to the blank line that ends them.
        }
      } else if (length >= 0) {
        copy(in, body, length);
      } else if (status != 204 && status != 304 && status >= 200) {
        // No length: the body runs to the end of the connection.
        in.transferTo(body);
        keepAlive = false;
      }
      return new Response(status, body.toString(StandardCharsets.UTF_8), keepAlive);
    }

    private static long chunkSize(String line) {
      int semi = line.indexOf(';');
      return Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
    }

    private static void copy(InputStream in, ByteArrayOutputStream to, long n) throws IOException {
      byte[] buf = new byte[(int) Math.min(n, 8192)];
      while (n > 0) {
        int r = in.read(buf, 0, (int) Math.min(buf.length, n));
        if (r < 0) {
          throw new EOFException("the answer ended " + n + " bytes early");
        }
        to.write(buf, 0, r);
        n -= r;
      }
    }

    /** A line up to CRLF (or LF), without it; EOF before any byte is an error. */
    private static String line(InputStream in) throws IOException {
      StringBuilder s = new StringBuilder(64);
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          int n = s.length();
          if (n > 0 && s.charAt(n - 1) == '\r') {
            s.setLength(n - 1);
          }
          return s.toString();
        }
        if (s.length() > 16_384) {
          throw new IOException("an answer's line is longer than 16 kB");
        }
        s.append((char) b);
      }
      throw new EOFException("the connection closed before the answer was complete");
    }
  }
}
