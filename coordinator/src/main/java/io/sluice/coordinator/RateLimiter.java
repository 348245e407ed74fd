package io.sluice.coordinator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The per-token rate limit: a token bucket per tenant, {@code burst} requests at once refilled at
 * {@code requestsPerSecond}. Each take is one synchronized check-and-decrement, so concurrent
 * requests never spend a token twice. The buckets live in this coordinator's memory: a refused
 * request changes nothing in PostgreSQL or Redis, and with N coordinators behind a balancer a
 * tenant gets at most N times the rate.
 */
final class RateLimiter {
  private final ApiLimits limits;
  private final double perNano;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final Counter refused;

  RateLimiter(ApiLimits limits, MeterRegistry metrics, LongSupplier nanoTime) {
    this.limits = limits;
    this.perNano = limits.requestsPerSecond() / 1e9;
    this.nanoTime = nanoTime;
    this.refused = metrics.counter("sluice_api_rate_limited_total");
  }

  /** Lets the tenant's request through, or answers 429 with the seconds to wait. */
  void admit(String tenant) {
    if (!limits.rateLimited()) {
      return;
    }
    long wait = tryTake(tenant);
    if (wait > 0) {
      refused.increment();
      throw new ApiException(
              429,
              "rate limit of "
                  + rate()
                  + " requests per second (bursts of "
                  + limits.burst()
                  + ") exceeded for this token; retry after "
                  + wait
                  + " s")
          .retryAfter(wait);
    }
  }

  private String rate() {
    double r = limits.requestsPerSecond();
    return r == Math.rint(r) ? String.valueOf((long) r) : String.valueOf(r);
  }

  /** Takes a token: 0 when granted, else the whole seconds (at least 1) until one is available. */
  long tryTake(String tenant) {
    return buckets
        .computeIfAbsent(tenant, t -> new Bucket(limits.burst(), nanoTime.getAsLong()))
        .take();
  }

  private final class Bucket {
    private double tokens;
    private long refilledAt;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.refilledAt = now;
    }

    synchronized long take() {
      long now = nanoTime.getAsLong();
      tokens = Math.min(limits.burst(), tokens + (now - refilledAt) * perNano);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - tokens) / (perNano * 1e9)));
    }
  }
}
