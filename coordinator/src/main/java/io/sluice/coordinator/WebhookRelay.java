package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.json.Json;
import io.sluice.store.PostgresWebhooks;
import io.sluice.store.PostgresWebhooks.Delivery;
import io.sluice.store.PostgresWebhooks.Outcome;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's webhook relay: claims due deliveries from the outbox (fenced by its epoch, leased
 * for longer than a delivery may take), posts each with an HMAC-SHA256 signature over the timestamp
 * and the body, and records every attempt and outcome in one fenced transaction. A delivery is
 * DELIVERED only after a 2xx; otherwise it is due again after an exponential backoff until {@code
 * SLUICE_WEBHOOK_RETRY_FOR} has passed since the job ended, then FAILED. A relay that dies holding
 * deliveries leaves them PENDING: the next leader takes them at once (their lease names another
 * epoch), so a callback is delivered at least once and never lost.
 */
final class WebhookRelay implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(WebhookRelay.class);
  static final int BATCH = 32;

  private final LeaderElection leader;
  private final WebhookConfig config;
  private final PostgresWebhooks store = new PostgresWebhooks();
  private final HttpClient http;
  private final MeterRegistry metrics;
  private final Timer latency;

  WebhookRelay(LeaderElection leader, WebhookConfig config, MeterRegistry metrics) {
    this.leader = leader;
    this.config = config;
    this.metrics = metrics;
    this.latency = metrics.timer("sluice_webhook_delivery_seconds");
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(config.timeout())
            .followRedirects(HttpClient.Redirect.NEVER) // a redirect could point inside
            .build();
  }

  @Override
  public void run() {
    if (!leader.isLeader()) {
      return;
    }
    long epoch = leader.epoch();
    List<Delivery> batch =
        leader.fenced(c -> store.claim(c, epoch, BATCH, config.timeout().plusSeconds(5)));
    if (batch.isEmpty()) {
      return;
    }
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Outcome>> sent = new ArrayList<>();
      batch.forEach(d -> sent.add(senders.submit(() -> deliver(d))));
      for (Future<Outcome> f : sent) {
        outcomes.add(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return; // the claims' lease runs out and the next round (or leader) sends them again
    } catch (ExecutionException e) {
      // deliver() turns every failure into an outcome, so this is a bug; the lease retries them.
      log.error("Webhook relay round failed; its claims are sent again after their lease", e);
      return;
    }
    leader.fenced(c -> store.record(c, outcomes));
  }

  private Outcome deliver(Delivery d) {
    long start = System.nanoTime();
    String secret = config.secretOf(d.tenant()).orElse(null);
    if (secret == null) {
      return ended(
          d,
          start,
          null,
          "no signing secret for tenant " + d.tenant() + " in SLUICE_WEBHOOK_SECRETS",
          "FAILED");
    }
    try {
      config.targets().checkDelivery(d.url(), InetAddress::getAllByName);
    } catch (WebhookTargets.Blocked b) {
      return b.retry
          ? failed(d, start, null, b.getMessage())
          : ended(d, start, null, b.getMessage(), "FAILED");
    }
    String body = body(d);
    long timestamp = Instant.now().getEpochSecond();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(d.url()))
            .timeout(config.timeout())
            .header("Content-Type", "application/json")
            .header("User-Agent", "Sluice-Webhook/1")
            .header("Sluice-Webhook-Id", Long.toString(d.id()))
            .header("Sluice-Webhook-Attempt", Integer.toString(d.attempt()))
            .header("Sluice-Timestamp", Long.toString(timestamp))
            .header("Sluice-Signature", "v1=" + sign(secret, timestamp, body))
            .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
            .build();
    try {
      HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
      latency.record(Duration.ofNanos(System.nanoTime() - start));
      if (r.statusCode() / 100 == 2) {
        return ended(d, start, r.statusCode(), null, "DELIVERED");
      }
      return failed(d, start, r.statusCode(), "HTTP " + r.statusCode());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failed(d, start, null, "interrupted");
    } catch (Exception e) {
      return failed(d, start, null, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** The delivery's body: what the transition stored, with the delivery's id and time. */
  private static String body(Delivery d) {
    ObjectNode stored = (ObjectNode) Json.read(d.body());
    ObjectNode body = Json.object().put("id", Long.toString(d.id()));
    body.put("createdAt", d.createdAt().toString());
    body.setAll(stored);
    return Json.write(body);
  }

  /**
   * Hex HMAC-SHA256 of {@code timestamp + "." + body} under the tenant's secret: what a receiver
   * recomputes to check the {@code Sluice-Signature} header.
   */
  static String sign(String secret, long timestamp, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  /** A failed attempt: due again after the backoff, or FAILED once the retry time is over. */
  private Outcome failed(Delivery d, long start, Integer code, String error) {
    Duration wait = config.backoff(d.attempt());
    long jittered = (long) (wait.toMillis() * ThreadLocalRandom.current().nextDouble(0.8, 1.2));
    boolean giveUp =
        Instant.now().plusMillis(jittered).isAfter(d.createdAt().plus(config.retryFor()));
    if (giveUp) {
      return ended(
          d, start, code, error + "; gave up after " + d.attempt() + " attempt(s)", "FAILED");
    }
    metrics.counter("sluice_webhook_deliveries_total", "outcome", "retried").increment();
    log.warn(
        "Webhook {} of job event {} to {} failed ({}), attempt {}; retrying in {} ms",
        d.id(),
        d.event(),
        URI.create(d.url()).getHost(),
        error,
        d.attempt(),
        jittered);
    return new Outcome(
        d.id(), d.attempt(), code, error, millis(start), "PENDING", Duration.ofMillis(jittered));
  }

  private Outcome ended(Delivery d, long start, Integer code, String error, String status) {
    metrics
        .counter("sluice_webhook_deliveries_total", "outcome", status.toLowerCase(Locale.ROOT))
        .increment();
    if (status.equals("FAILED")) {
      log.warn(
          "Webhook {} of {} to {} FAILED for good: {}",
          d.id(),
          d.event(),
          URI.create(d.url()).getHost(),
          error);
    } else {
      log.debug(
          "Webhook {} delivered to {} (HTTP {})", d.id(), URI.create(d.url()).getHost(), code);
    }
    return new Outcome(d.id(), d.attempt(), code, error, millis(start), status, null);
  }

  private static int millis(long start) {
    return (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - start) / 1_000_000);
  }
}
