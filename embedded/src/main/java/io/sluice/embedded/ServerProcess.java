package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The life cycle shared by the embedded servers: a fixed port and folder, start/stop/restart on the
 * same port, close once (also at JVM exit), and the folder deleted if this object created it.
 */
abstract class ServerProcess implements AutoCloseable {
  private final int port;
  private final Path dir;
  private final boolean ownsDir;
  private final Thread shutdownHook;
  private boolean closed;

  ServerProcess(String kind, int port, Path dir, boolean ownsDir) {
    this.port = port;
    this.dir = dir;
    this.ownsDir = ownsDir;
    this.shutdownHook = new Thread(this::close, kind + "-" + port + "-stopper");
  }

  /**
   * Creates the folder if needed, registers the exit hook and starts the server; a server that
   * fails to start is cleaned up.
   */
  static <T extends ServerProcess> T launched(T server) {
    try {
      Files.createDirectories(server.dir());
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + server.dir(), e);
    }
    Runtime.getRuntime().addShutdownHook(((ServerProcess) server).shutdownHook);
    try {
      server.start();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a temporary folder " + prefix + "*", e);
    }
  }

  /**
   * @return the TCP port on 127.0.0.1, the same across restarts
   */
  public final int port() {
    return port;
  }

  final Path dir() {
    return dir;
  }

  /**
   * Starts the server after {@link #stop()}, on the same port; does nothing if it runs.
   *
   * @throws IllegalStateException if it does not start, with the end of its log
   */
  public final synchronized void start() {
    if (closed) {
      throw new IllegalStateException(this + " was closed");
    }
    if (!isRunning()) {
      startProcess();
    }
  }

  /** Stops the server; {@link #start()} brings it back on the same port. */
  public final synchronized void stop() {
    if (isRunning()) {
      stopProcess();
    }
  }

  /** Stops the server and starts it again on the same port. */
  public final synchronized void restart() {
    stop();
    start();
  }

  /**
   * @return whether the server process is running
   */
  public abstract boolean isRunning();

  /** Stops the server for good and deletes the files it owns. Safe to call twice. */
  @Override
  public final synchronized void close() {
    if (closed) {
      return;
    }
    try {
      stop();
    } finally {
      closed = true;
      if (Thread.currentThread() != shutdownHook) {
        try {
          Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
          // The JVM is shutting down; the hook will find this server closed.
        }
      }
      FileTrees.deleteTree(ownsDir ? dir : ownedInsideDir());
    }
  }

  abstract void startProcess();

  abstract void stopProcess();

  /** What to delete on close when the folder was given by the caller; null for nothing. */
  abstract Path ownedInsideDir();
}
