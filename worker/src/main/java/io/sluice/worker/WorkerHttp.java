package io.sluice.worker;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.config.ApiTokens;
import io.sluice.health.Health;
import io.sluice.json.Json;

/** The worker's own port: health, metrics and the drain action. */
final class WorkerHttp {
  private WorkerHttp() {}

  /**
   * Starts the port. With {@code adminTokens}, {@code POST /admin/drain} needs one of them as a
   * bearer token (401 otherwise); without, it is open, as on a private network.
   */
  static Javalin start(
      int port,
      Health health,
      PrometheusMeterRegistry metrics,
      Runnable drain,
      ApiTokens adminTokens) {
    Javalin app = Javalin.create(cfg -> cfg.showJavalinBanner = false);
    app.get("/health/live", ctx -> ctx.json(Json.object().put("status", "UP")));
    app.get(
        "/health/ready",
        ctx -> {
          Health.Report report = health.check();
          ctx.status(report.ready() ? 200 : 503).json(report.body());
        });
    app.get(
        "/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
    app.post(
        "/admin/drain",
        ctx -> {
          if (adminTokens != null && !authorized(ctx.header("Authorization"), adminTokens)) {
            ctx.header("WWW-Authenticate", "Bearer");
            ctx.status(401)
                .json(Json.object().put("error", "draining needs Authorization: Bearer <token>"));
            return;
          }
          drain.run();
          ctx.status(202).json(Json.object().put("status", "DRAINING"));
        });
    app.start(port);
    return app;
  }

  private static boolean authorized(String header, ApiTokens tokens) {
    return header != null
        && header.regionMatches(true, 0, "Bearer ", 0, 7)
        && tokens.tenantOf(header.substring(7).trim()).isPresent();
  }
}
