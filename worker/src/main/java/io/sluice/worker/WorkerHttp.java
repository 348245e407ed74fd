package io.sluice.worker;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.health.Health;
import io.sluice.json.Json;

/** The worker's own port: health, metrics and the drain action. */
final class WorkerHttp {
  private WorkerHttp() {}

  static Javalin start(int port, Health health, PrometheusMeterRegistry metrics, Runnable drain) {
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
          drain.run();
          ctx.status(202).json(Json.object().put("status", "DRAINING"));
        });
    app.start(port);
    return app;
  }
}
