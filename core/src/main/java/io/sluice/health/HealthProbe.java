package io.sluice.health;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A container health check that needs neither a shell nor curl: {@code java
 * -cp @/app/jib-classpath-file io.sluice.health.HealthProbe http://127.0.0.1:8080/health/ready}
 * exits 0 when the URL answers 2xx within the timeout (second argument, seconds, default 2), 1
 * otherwise, printing one line saying why.
 */
public final class HealthProbe {
  private HealthProbe() {}

  public static void main(String[] args) {
    System.exit(probe(args));
  }

  static int probe(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: HealthProbe URL [TIMEOUT_SECONDS]");
      return 2;
    }
    URI uri;
    Duration timeout;
    try {
      uri = URI.create(args[0]);
      timeout = Duration.ofSeconds(args.length == 2 ? Long.parseLong(args[1]) : 2);
    } catch (IllegalArgumentException e) {
      System.err.println("HealthProbe: " + e.getMessage());
      return 2;
    }
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build()) {
      HttpResponse<Void> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
              HttpResponse.BodyHandlers.discarding());
      int status = response.statusCode();
      System.out.println(uri + " answered " + status);
      return status >= 200 && status < 300 ? 0 : 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.out.println(uri + " interrupted");
      return 1;
    } catch (IOException e) {
      System.out.println(uri + " unreachable: " + e);
      return 1;
    }
  }
}
