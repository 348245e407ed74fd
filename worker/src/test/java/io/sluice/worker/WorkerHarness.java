package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.json.Json;
import io.sluice.testkit.TestEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** Starts in-process workers against a test's environment and reads their HTTP endpoints. */
final class WorkerHarness {
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private WorkerHarness() {}

  static WorkerConfig config(
      TestEnvironment env, String queue, int concurrency, int commitBacklog, Duration lease) {
    return WorkerConfig.builder(
            new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), 6),
            RedisConfig.parse(env.redisUrl(), env.redisPrefix()))
        .workerId("w-" + UUID.randomUUID().toString().substring(0, 8))
        .queues(List.of(queue))
        .concurrency(concurrency)
        .lease(lease)
        .retryBase(Duration.ofMillis(50))
        .retryMax(Duration.ofMillis(200))
        .drainGrace(Duration.ofSeconds(1))
        .httpPort(0)
        .commitBacklog(commitBacklog)
        .build();
  }

  /** The value of an unlabelled metric, or NaN when it is not exported. */
  static double metric(Worker worker, String name) {
    for (String line : get(worker, "/metrics").body().split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  static int readiness(Worker worker) {
    return get(worker, "/health/ready").statusCode();
  }

  static JsonNode readinessBody(Worker worker) {
    return Json.read(get(worker, "/health/ready").body());
  }

  private static HttpResponse<String> get(Worker worker, String path) {
    try {
      return http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.port() + path))
              .timeout(Duration.ofSeconds(5))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
