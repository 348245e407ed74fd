package io.sluice.e2e.fault;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One address in front of several coordinators, the way a TCP load balancer without sticky sessions
 * stands in front of them: each new connection goes to the next backend in turn, past any that
 * refuses it. A backend that dies resets its connections; the client's next connection lands on a
 * live one. Counts connections per backend, those open now included.
 */
final class RoundRobinProxy implements AutoCloseable {
  private final List<Integer> backends;
  private final ServerSocket server;
  private final AtomicInteger next = new AtomicInteger();
  private final Map<Integer, AtomicLong> opened = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicInteger> open = new ConcurrentHashMap<>();

  RoundRobinProxy(List<Integer> backends) throws IOException {
    this.backends = List.copyOf(backends);
    this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    backends.forEach(
        p -> {
          opened.put(p, new AtomicLong());
          open.put(p, new AtomicInteger());
        });
    Thread.ofVirtual().name("round-robin-accept").start(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  /** Connections ever sent to the backend on {@code port}. */
  long opened(int port) {
    return opened.get(port).get();
  }

  /** Connections to the backend on {@code port} open now. */
  int openNow(int port) {
    return open.get(port).get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Thread.ofVirtual().start(() -> forward(client));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void forward(Socket client) {
    int first = Math.floorMod(next.getAndIncrement(), backends.size());
    for (int i = 0; i < backends.size(); i++) {
      int port = backends.get((first + i) % backends.size());
      Socket backend = new Socket();
      try {
        backend.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      } catch (IOException refused) {
        closeQuietly(backend);
        continue;
      }
      opened.get(port).incrementAndGet();
      open.get(port).incrementAndGet();
      Thread up = Thread.ofVirtual().start(() -> pipe(client, backend));
      pipe(backend, client);
      try {
        up.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      open.get(port).decrementAndGet();
      return;
    }
    closeQuietly(client); // no backend alive
  }

  /** Copies until either side ends, then closes both so the other direction ends too. */
  private static void pipe(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      in.transferTo(out);
    } catch (IOException e) {
      // a reset on either side ends the link
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
