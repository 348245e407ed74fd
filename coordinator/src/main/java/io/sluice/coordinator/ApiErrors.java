package io.sluice.coordinator;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.SluiceException;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.DatabaseUnavailableException;
import io.sluice.store.StoreException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a failure becomes an HTTP answer: the status of each {@link Refusal}, the 503
 * of a database outage or of a transaction that kept losing, and the {@code Retry-After} of every
 * reason (README, "When PostgreSQL is unavailable" and "Limits").
 */
final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  /** A quota frees when one of the tenant's jobs finishes: rarely within a second. */
  static final long QUOTA_RETRY_AFTER_SECONDS = 5;

  /** No connection to PostgreSQL: the pool needs a moment to reconnect. */
  static final long OUTAGE_RETRY_AFTER_SECONDS = 2;

  /** A transaction kept losing to serialization failures or deadlocks: a retry soon wins. */
  static final long BUSY_RETRY_AFTER_SECONDS = 1;

  private final Counter unavailable;

  private ApiErrors(MeterRegistry metrics) {
    this.unavailable = metrics.counter("sluice_api_unavailable_total");
  }

  /** Maps every failure a route may throw to its answer. */
  static void register(Javalin app, MeterRegistry metrics) {
    ApiErrors errors = new ApiErrors(metrics);
    app.exception(ApiException.class, (e, ctx) -> respond(ctx, e));
    app.exception(Refusal.class, (e, ctx) -> respond(ctx, toApi(e)));
    app.exception(StoreException.class, errors::database);
    app.exception(SluiceException.class, errors::database);
    app.exception(
        HttpResponseException.class,
        (e, ctx) -> ctx.status(e.getStatus()).json(Json.object().put("error", e.getMessage())));
    app.exception(
        Exception.class,
        (e, ctx) -> {
          log.error("Request {} {} failed", ctx.method(), ctx.path(), e);
          ctx.status(500)
              .json(Json.object().put("error", "internal error: " + e.getClass().getSimpleName()));
        });
    app.error(
        404,
        ctx -> {
          if (ctx.result() == null || ctx.result().isEmpty()) {
            ctx.json(
                Json.object().put("error", "no such endpoint: " + ctx.method() + " " + ctx.path()));
          }
        });
  }

  /** The answer a refusal gets: its status, its message as {@code error}, its facts, its wait. */
  static ApiException toApi(Refusal refusal) {
    ApiException api =
        switch (refusal) {
          case Refusal.InvalidSubmission r -> new ApiException(400, r.getMessage());
          case Refusal.InvalidBatch r -> {
            ApiException batch = new ApiException(400, r.getMessage());
            var errors = batch.body().putArray("errors");
            r.items().forEach(errors::add);
            yield batch;
          }
          case Refusal.JobNotFound r -> new ApiException(404, r.getMessage());
          case Refusal.JobConflict r -> new ApiException(409, r.getMessage());
          case Refusal.IdempotencyConflict r -> new ApiException(409, r.getMessage());
          case Refusal.QuotaExceeded r -> new ApiException(429, r.getMessage());
          case Refusal.Overloaded r -> new ApiException(503, r.getMessage());
        };
    for (Map.Entry<String, Object> e : refusal.details().entrySet()) {
      if (e.getValue() instanceof Number n) {
        api.with(e.getKey(), n.longValue());
      } else {
        api.with(e.getKey(), String.valueOf(e.getValue()));
      }
    }
    long wait =
        switch (refusal) {
          case Refusal.QuotaExceeded r -> QUOTA_RETRY_AFTER_SECONDS;
          case Refusal.Overloaded r -> r.reason().retryAfterSeconds;
          default -> 0;
        };
    return wait > 0 ? api.retryAfter(wait) : api;
  }

  private static void respond(Context ctx, ApiException e) {
    if (e.retryAfterSeconds() > 0) {
      ctx.header("Retry-After", String.valueOf(e.retryAfterSeconds()));
    }
    ctx.status(e.status()).json(e.body());
  }

  /** An outage or a losing transaction is a 503 worth retrying; anything else is a bug. */
  private void database(SluiceException e, Context ctx) {
    ApiException answer = unavailable(e);
    if (answer != null) {
      unavailable.increment();
      log.warn("Request {} {} answered 503: {}", ctx.method(), ctx.path(), e.getMessage());
      respond(ctx, answer);
      return;
    }
    log.error("Request {} {} failed", ctx.method(), ctx.path(), e);
    ctx.status(500)
        .json(
            Json.object()
                .put(
                    "error",
                    "internal error: "
                        + (e instanceof StoreException ? "database" : e.getMessage())));
  }

  /**
   * The 503 of a database failure a retry can fix: no connection ({@value
   * #OUTAGE_RETRY_AFTER_SECONDS} s) or a transaction that kept losing to serialization failures or
   * deadlocks ({@value #BUSY_RETRY_AFTER_SECONDS} s); null for any other failure.
   */
  static ApiException unavailable(SluiceException e) {
    boolean outage = e instanceof DatabaseUnavailableException || Database.isOutage(e);
    boolean busy =
        e instanceof StoreException s
            && ("40001".equals(s.sqlState()) || "40P01".equals(s.sqlState()));
    if (!outage && !busy) {
      return null;
    }
    ApiException answer =
        new ApiException(
            503,
            outage
                ? "PostgreSQL is unavailable; retry shortly"
                : "the database is unavailable or busy; retry shortly");
    answer.body().put("retryable", true);
    return answer.retryAfter(outage ? OUTAGE_RETRY_AFTER_SECONDS : BUSY_RETRY_AFTER_SECONDS);
  }
}
