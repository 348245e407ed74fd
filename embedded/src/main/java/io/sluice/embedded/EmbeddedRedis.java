package io.sluice.embedded;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.embedded.core.ExecutableProvider;

/**
 * A real redis-server on 127.0.0.1, run from the binary bundled in {@code
 * com.github.codemonstur:embedded-redis}. That artifact (1.4.4) ships Redis 6.2.6 for Linux x86-64
 * and macOS x86-64, 6.2.7 for Linux arm64 and i386, and 5.0.14 for Windows (too old for Sluice's
 * Lua, which needs 6.2+; Windows is not supported by the demo either).
 *
 * <p>The server keeps nothing on disk ({@code --save ""}, {@code --appendonly no}), so {@link
 * #restart()} brings it back empty on the same port: the state Sluice must survive when Redis loses
 * its data.
 *
 * <p>The artifact's own {@code RedisServer} class is not used: it reads the server's standard
 * output to detect readiness while a listener thread may read the same stream, and it adds a
 * shutdown hook on every start. Here the output goes to a log file and readiness is a real {@code
 * PING}.
 */
public final class EmbeddedRedis implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private final int port;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private final Thread shutdownHook;
  private Process process;
  private boolean closed;

  private EmbeddedRedis(int port, Path workDir, boolean ownsWorkDir) {
    this.port = port;
    this.workDir = workDir;
    this.ownsWorkDir = ownsWorkDir;
    this.shutdownHook = new Thread(this::destroyNow, "embedded-redis-" + port + "-stopper");
  }

  /**
   * Starts a server on a free port with a fresh temporary working directory, deleted by {@link
   * #close()}.
   *
   * @return the running server
   */
  public static EmbeddedRedis launch() {
    try {
      return launch(FreePort.find(), Files.createTempDirectory("sluice-redis-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a working directory for Redis", e);
    }
  }

  /**
   * Starts a server on the given port, keeping its log in {@code workDir} (which is left in place).
   *
   * @param port the TCP port on 127.0.0.1; 0 picks a free one
   * @param workDir an existing directory for the log and any file Redis writes
   * @return the running server
   */
  public static EmbeddedRedis launch(int port, Path workDir) {
    return launch(port == 0 ? FreePort.find() : port, workDir, false);
  }

  private static EmbeddedRedis launch(int port, Path workDir, boolean ownsWorkDir) {
    EmbeddedRedis redis = new EmbeddedRedis(port, workDir, ownsWorkDir);
    Runtime.getRuntime().addShutdownHook(redis.shutdownHook);
    redis.start();
    return redis;
  }

  /**
   * @return {@code redis://127.0.0.1:PORT}
   */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /**
   * @return the TCP port, the same across restarts
   */
  public int port() {
    return port;
  }

  /**
   * @return the file that receives the server's log
   */
  public Path logFile() {
    return workDir.resolve("redis-" + port + ".log");
  }

  /**
   * @return whether the server process is running
   */
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Starts the server again after {@link #stop()}, empty, on the same port. Does nothing if it
   * runs.
   *
   * @throws IllegalStateException if it does not answer {@code PING} in time
   */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("Redis on port " + port + " was closed");
    }
    if (isRunning()) {
      return;
    }
    try {
      // A dump left by an earlier run would bring keys back; the contract is "empty after restart".
      Files.deleteIfExists(workDir.resolve("dump.rdb"));
      process = command().redirectErrorStream(true).redirectOutput(logFile().toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start redis-server on port " + port, e);
    }
    awaitPong();
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s); its data is gone. */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /**
   * Kills the server at once (SIGKILL), as a crash would. {@link #start()} brings it back empty.
   */
  public synchronized void kill() {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      process = null;
    }
  }

  /** Stops the server and starts it again, empty, on the same port. */
  public synchronized void restart() {
    stop();
    start();
  }

  /** Stops the server and deletes the working directory if this object created it. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    stop();
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is running or has run.
    }
    if (ownsWorkDir) {
      FileTrees.deleteTree(workDir);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedRedis[" + url() + ", running=" + isRunning() + "]";
  }

  private ProcessBuilder command() throws IOException {
    return new ProcessBuilder(
            List.of(
                RedisBinary.get().getAbsolutePath(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workDir.toAbsolutePath().toString(),
                "--daemonize",
                "no"))
        .directory(workDir.toFile());
  }

  private void awaitPong() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "redis-server on port "
                + port
                + " exited with "
                + process.exitValue()
                + "; log:\n"
                + FileTrees.tail(logFile(), 20));
      }
      if (answersPing()) {
        return;
      }
      sleep(Duration.ofMillis(25));
    }
    process.destroyForcibly();
    throw new IllegalStateException(
        "redis-server on port "
            + port
            + " did not answer PING within "
            + START_TIMEOUT
            + "; log:\n"
            + FileTrees.tail(logFile(), 20));
  }

  private boolean answersPing() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      socket.setSoTimeout(500);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] reply = in.readNBytes(7);
      return new String(reply, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  private void destroyNow() {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (ownsWorkDir) {
      FileTrees.deleteTree(workDir);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Redis", e);
    }
  }

  /** The binary is unpacked from the jar once per JVM and shared by every server. */
  private static final class RedisBinary {
    private static File binary;

    static synchronized File get() throws IOException {
      if (binary == null || !binary.canExecute()) {
        binary = ExecutableProvider.newJarResourceProvider().get();
      }
      return binary;
    }
  }
}
