package io.sluice.e2e;

import io.sluice.embedded.FileTrees;
import io.sluice.embedded.FreePort;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A redis-server of this test's own that speaks only TLS (Debian's {@code /usr/bin/redis-server},
 * built with TLS), with a throw-away CA and a server certificate for 127.0.0.1 and localhost made
 * by {@code openssl}. The CA is also written as a PKCS12 trust store for the JVMs that connect.
 */
final class TlsRedis implements AutoCloseable {
  static final Path SERVER = Path.of("/usr/bin/redis-server");
  static final String TRUST_STORE_PASSWORD = "sluice-test";

  private final Path dir;
  private final int port = FreePort.find();
  private final Process process;
  private final SSLContext trust;

  private TlsRedis(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    makeCertificates();
    this.trust = trustContext();
    this.process =
        new ProcessBuilder(
                SERVER.toString(),
                "--port",
                "0",
                "--tls-port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                file("redis.crt"),
                "--tls-key-file",
                file("redis.key"),
                "--tls-ca-cert-file",
                file("ca.crt"),
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
  }

  /** Whether this machine has what the test needs; when not, the reason. */
  static String unavailableBecause() {
    if (!Files.isExecutable(SERVER)) {
      return SERVER + " is not installed";
    }
    if (!onPath("openssl")) {
      return "openssl is not on the PATH";
    }
    return null;
  }

  static TlsRedis start() throws IOException, InterruptedException {
    TlsRedis redis = new TlsRedis(Files.createTempDirectory("sluice-tls-redis-"));
    try {
      redis.awaitPing(Duration.ofSeconds(15));
      return redis;
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  int port() {
    return port;
  }

  /** The CA as a PKCS12 trust store, for {@code -Djavax.net.ssl.trustStore}. */
  Path trustStore() {
    return dir.resolve("truststore.p12");
  }

  /** A connection as the default user, over TLS, trusting only the test CA. */
  Jedis admin() {
    SSLParameters hostCheck = new SSLParameters();
    hostCheck.setEndpointIdentificationAlgorithm("HTTPS");
    return new Jedis(
        new HostAndPort("127.0.0.1", port),
        DefaultJedisClientConfig.builder()
            .ssl(true)
            .sslSocketFactory(trust.getSocketFactory())
            .sslParameters(hostCheck)
            .build());
  }

  String logTail() {
    return FileTrees.tail(dir.resolve("redis.log"), 20);
  }

  @Override
  public void close() {
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    FileTrees.deleteTree(dir);
  }

  private void awaitPing(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server with TLS exited; log:\n" + logTail());
      }
      try (Jedis jedis = admin()) {
        if ("PONG".equals(jedis.ping())) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      sleep(Duration.ofMillis(50));
    }
    throw new IllegalStateException(
        "redis-server did not answer PING over TLS; log:\n" + logTail(), last);
  }

  private void makeCertificates() throws IOException, InterruptedException {
    Files.writeString(
        dir.resolve("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            + "basicConstraints=CA:FALSE\n"
            + "keyUsage=digitalSignature,keyEncipherment\n"
            + "extendedKeyUsage=serverAuth\n");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=sluice-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        file("ca.key"),
        "-out",
        file("ca.crt"));
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        file("redis.key"),
        "-out",
        file("redis.csr"));
    openssl(
        "x509",
        "-req",
        "-in",
        file("redis.csr"),
        "-CA",
        file("ca.crt"),
        "-CAkey",
        file("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        file("server.ext"),
        "-out",
        file("redis.crt"));
  }

  private SSLContext trustContext() throws IOException {
    try (InputStream in = Files.newInputStream(dir.resolve("ca.crt"))) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry(
          "sluice-test-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      try (OutputStream out = Files.newOutputStream(trustStore())) {
        store.store(out, TRUST_STORE_PASSWORD.toCharArray());
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not build a trust store from the test CA", e);
    }
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("openssl.log").toFile())
            .start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "openssl "
              + String.join(" ", args)
              + " failed:\n"
              + FileTrees.tail(dir.resolve("openssl.log"), 10));
    }
  }

  private String file(String name) {
    return dir.resolve(name).toString();
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String entry : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(entry, command))) {
        return true;
      }
    }
    return false;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
