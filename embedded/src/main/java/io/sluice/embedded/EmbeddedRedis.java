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
import java.util.ArrayList;
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
public final class EmbeddedRedis extends ServerProcess {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private Process process;
  private final List<String> role;

  private EmbeddedRedis(int port, Path workDir, boolean ownsWorkDir) {
    this(port, workDir, ownsWorkDir, List.of());
  }

  /**
   * @param role what makes this server a replica ({@code --replicaof …}) or a sentinel (its config
   *     file and {@code --sentinel}, first); empty for a plain server
   */
  private EmbeddedRedis(int port, Path workDir, boolean ownsWorkDir, List<String> role) {
    super("embedded-redis", port, workDir, ownsWorkDir);
    this.role = List.copyOf(role);
  }

  /**
   * Starts a replica of the server on {@code masterPort} of 127.0.0.1, on the given port, its log
   * and files in {@code workDir} (one directory per server: a replica writes the RDB it syncs).
   */
  public static EmbeddedRedis launchReplica(int port, Path workDir, int masterPort) {
    return launched(
        new EmbeddedRedis(
            port == 0 ? FreePort.find() : port,
            workDir,
            false,
            List.of("--replicaof", "127.0.0.1", Integer.toString(masterPort))));
  }

  /**
   * Starts a server in cluster mode (no slots yet: the caller assigns them and introduces the
   * nodes, e.g. with CLUSTER ADDSLOTSRANGE, MEET and REPLICATE), with a node timeout of 1 s so a
   * dead master's replica is promoted within seconds; its {@code nodes.conf} in {@code workDir},
   * one directory per node.
   */
  public static EmbeddedRedis launchClusterNode(int port, Path workDir) {
    try {
      Files.createDirectories(workDir);
      Files.deleteIfExists(workDir.resolve("nodes.conf"));
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare " + workDir, e);
    }
    return launched(
        new EmbeddedRedis(
            port == 0 ? FreePort.find() : port,
            workDir,
            false,
            List.of(
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "1000")));
  }

  /**
   * Starts a Redis Sentinel that watches the master {@code masterName} on {@code masterPort} of
   * 127.0.0.1 with the given quorum, declaring it down after 1 s of silence; its config file (which
   * a sentinel rewrites) is in {@code workDir}.
   */
  public static EmbeddedRedis launchSentinel(
      int port, Path workDir, String masterName, int masterPort, int quorum) {
    Path config = workDir.resolve("sentinel.conf");
    try {
      Files.createDirectories(workDir);
      Files.writeString(
          config,
          String.join(
              "\n",
              "sentinel monitor " + masterName + " 127.0.0.1 " + masterPort + " " + quorum,
              "sentinel down-after-milliseconds " + masterName + " 1000",
              "sentinel failover-timeout " + masterName + " 4000",
              "sentinel parallel-syncs " + masterName + " 1",
              ""));
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + config, e);
    }
    return launched(
        new EmbeddedRedis(
            port == 0 ? FreePort.find() : port,
            workDir,
            false,
            List.of(config.toAbsolutePath().toString(), "--sentinel")));
  }

  /**
   * Starts a server on a free port with a fresh temporary working directory, deleted by {@link
   * #close()}.
   *
   * @return the running server
   */
  public static EmbeddedRedis launch() {
    return launched(new EmbeddedRedis(FreePort.find(), tempDir("sluice-redis-"), true));
  }

  /**
   * Starts a server on the given port, keeping its log in {@code workDir} (which is left in place).
   *
   * @param port the TCP port on 127.0.0.1; 0 picks a free one
   * @param workDir the directory for the log and any file Redis writes, created if missing
   * @return the running server
   */
  public static EmbeddedRedis launch(int port, Path workDir) {
    return launched(new EmbeddedRedis(port == 0 ? FreePort.find() : port, workDir, false));
  }

  /**
   * @return {@code redis://127.0.0.1:PORT}
   */
  public String url() {
    return "redis://127.0.0.1:" + port();
  }

  /**
   * @return the file that receives the server's log
   */
  public Path logFile() {
    return dir().resolve("redis-" + port() + ".log");
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Kills the server at once (SIGKILL), as a crash would. {@link #start()} brings it back empty.
   */
  public synchronized void kill() {
    if (process != null) {
      process.destroyForcibly();
      await(process);
      process = null;
    }
  }

  @Override
  public String toString() {
    return "EmbeddedRedis[" + url() + ", running=" + isRunning() + "]";
  }

  @Override
  void startProcess() {
    try {
      // A dump left by an earlier run would bring keys back; the contract is "empty after restart".
      Files.deleteIfExists(dir().resolve("dump.rdb"));
      process = command().redirectErrorStream(true).redirectOutput(logFile().toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start redis-server on port " + port(), e);
    }
    awaitPong();
  }

  /** SIGTERM, then SIGKILL after 10 s; nothing is saved. */
  @Override
  void stopProcess() {
    process.destroy();
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        await(process);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  @Override
  Path ownedInsideDir() {
    return null;
  }

  private ProcessBuilder command() throws IOException {
    List<String> command = new ArrayList<>();
    command.add(RedisBinary.get().getAbsolutePath());
    boolean sentinel = role.contains("--sentinel");
    if (sentinel) {
      command.addAll(role); // the config file must come first
    }
    command.addAll(
        List.of(
            "--port",
            Integer.toString(port()),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            dir().toAbsolutePath().toString(),
            "--daemonize",
            "no"));
    if (!sentinel) {
      command.addAll(role);
    }
    return new ProcessBuilder(command).directory(dir().toFile());
  }

  private void awaitPong() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "redis-server on port "
                + port()
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
            + port()
            + " did not answer PING within "
            + START_TIMEOUT
            + "; log:\n"
            + FileTrees.tail(logFile(), 20));
  }

  private boolean answersPing() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port()), 200);
      socket.setSoTimeout(500);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readNBytes(5), StandardCharsets.US_ASCII).equals("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  private static void await(Process p) {
    try {
      p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
