package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import io.sluice.store.NewJob;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How callbacks are signed and delivered.
 *
 * @param secrets each tenant's signing secret ({@code SLUICE_WEBHOOK_SECRETS}, {@code
 *     tenant:secret} pairs, secrets of at least 16 characters); a tenant without one cannot submit
 *     a callback
 * @param targets where callbacks may go ({@code SLUICE_WEBHOOK_ALLOW})
 * @param timeout how long one delivery may take ({@code SLUICE_WEBHOOK_TIMEOUT}, default 10s)
 * @param retryBase the wait after the first failed attempt, doubled after each ({@code
 *     SLUICE_WEBHOOK_RETRY_BASE}, default 1s)
 * @param retryMax the longest wait between attempts ({@code SLUICE_WEBHOOK_RETRY_MAX}, default 5m)
 * @param retryFor how long after the job ended a delivery is still tried ({@code
 *     SLUICE_WEBHOOK_RETRY_FOR}, default 24h); then it is FAILED
 */
public record WebhookConfig(
    Map<String, String> secrets,
    WebhookTargets targets,
    Duration timeout,
    Duration retryBase,
    Duration retryMax,
    Duration retryFor) {

  /** No secrets (no tenant may register a callback), public targets, the default timings. */
  public static final WebhookConfig NONE =
      new WebhookConfig(
          Map.of(),
          WebhookTargets.parse(""),
          Duration.ofSeconds(10),
          Duration.ofSeconds(1),
          Duration.ofMinutes(5),
          Duration.ofHours(24));

  public WebhookConfig {
    secrets = Map.copyOf(secrets);
    positive("SLUICE_WEBHOOK_TIMEOUT", timeout);
    positive("SLUICE_WEBHOOK_RETRY_BASE", retryBase);
    positive("SLUICE_WEBHOOK_RETRY_MAX", retryMax);
    positive("SLUICE_WEBHOOK_RETRY_FOR", retryFor);
  }

  public static WebhookConfig fromEnv(Env env) {
    return new WebhookConfig(
        secrets(env.get("SLUICE_WEBHOOK_SECRETS", "")),
        WebhookTargets.parse(env.get("SLUICE_WEBHOOK_ALLOW", "")),
        env.duration("SLUICE_WEBHOOK_TIMEOUT", NONE.timeout()),
        env.duration("SLUICE_WEBHOOK_RETRY_BASE", NONE.retryBase()),
        env.duration("SLUICE_WEBHOOK_RETRY_MAX", NONE.retryMax()),
        env.duration("SLUICE_WEBHOOK_RETRY_FOR", NONE.retryFor()));
  }

  /** This configuration for tests: these secrets and allowed targets, short retries. */
  public static WebhookConfig of(String secrets, String allow, Duration retryBase) {
    return new WebhookConfig(
        secrets(secrets),
        WebhookTargets.parse(allow),
        Duration.ofSeconds(3),
        retryBase,
        retryBase.multipliedBy(4),
        Duration.ofMinutes(10));
  }

  /** The secret that signs {@code tenant}'s callbacks, if it has one. */
  Optional<String> secretOf(String tenant) {
    return Optional.ofNullable(secrets.get(tenant));
  }

  /** Admits a submission's callback and each of its stages' ({@link #admit}). */
  void admitAll(String tenant, SubmitRequest request, String prefix) {
    admit(tenant, request.callback(), prefix);
    if (request.isPipeline()) {
      for (int i = 0; i < request.stages().size(); i++) {
        admit(tenant, request.stages().get(i).callback(), prefix + "stages[" + i + "].");
      }
    }
  }

  /**
   * A callback needs its tenant's signing secret and a target that is public or allowed: a 400
   * naming {@code callback} or {@code callback.url} otherwise ({@code prefix} is put before the
   * field, e.g. {@code job.} for a schedule's job).
   */
  void admit(String tenant, NewJob.Callback callback, String prefix) {
    if (callback == null) {
      return;
    }
    try {
      if (secretOf(tenant).isEmpty()) {
        throw new ApiException(
                400,
                "tenant "
                    + tenant
                    + " has no webhook signing secret (SLUICE_WEBHOOK_SECRETS), so it cannot"
                    + " register a callback")
            .with("field", "callback");
      }
      targets.admit(callback);
    } catch (ApiException e) {
      if (!prefix.isEmpty()) {
        e.body().put("field", prefix + e.body().path("field").asText());
      }
      throw e;
    }
  }

  /** The wait before attempt {@code attempt + 1}: base × 2^(attempt−1), at most the max. */
  Duration backoff(int attempt) {
    Duration d = retryBase.multipliedBy(1L << Math.min(20, Math.max(0, attempt - 1)));
    return d.compareTo(retryMax) > 0 ? retryMax : d;
  }

  static Map<String, String> secrets(String spec) {
    Map<String, String> secrets = new LinkedHashMap<>();
    for (String raw : spec.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      int colon = entry.indexOf(':');
      String tenant = colon < 0 ? "" : entry.substring(0, colon).trim();
      if (colon < 0 || tenant.isEmpty()) {
        throw new ConfigException(
            "SLUICE_WEBHOOK_SECRETS",
            "(an entry, hidden)",
            "must be tenant:secret pairs separated by commas");
      }
      String secret = entry.substring(colon + 1).trim();
      if (secret.length() < 16) {
        throw new ConfigException(
            "SLUICE_WEBHOOK_SECRETS",
            "(the secret of " + tenant + ", hidden)",
            "must be at least 16 characters");
      }
      if (secrets.put(tenant, secret) != null) {
        throw new ConfigException("SLUICE_WEBHOOK_SECRETS", tenant, "names this tenant twice");
      }
    }
    return secrets;
  }

  private static void positive(String setting, Duration d) {
    if (d == null || !d.isPositive()) {
      throw new ConfigException(setting, String.valueOf(d), "must be a positive duration");
    }
  }

  @Override
  public String toString() {
    return "WebhookConfig[tenants with a secret="
        + secrets.keySet()
        + ", targets="
        + targets
        + ", timeout="
        + timeout
        + ", retry="
        + retryBase
        + ".."
        + retryMax
        + " for "
        + retryFor
        + "]";
  }
}
