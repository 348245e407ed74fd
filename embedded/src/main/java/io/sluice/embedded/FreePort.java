package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Finds free TCP ports on the loopback interface. */
public final class FreePort {
  private FreePort() {}

  /**
   * Returns a port that was free a moment ago. Another process may take it before the caller binds
   * it; the servers started here fail loudly when that happens rather than sharing a port.
   *
   * @return a free port on 127.0.0.1
   */
  public static int find() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on the loopback interface", e);
    }
  }
}
