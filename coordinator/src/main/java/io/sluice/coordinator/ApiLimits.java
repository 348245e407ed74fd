package io.sluice.coordinator;

import io.sluice.config.ConcurrencyLimits;
import io.sluice.config.ConfigException;
import io.sluice.config.Env;
import java.util.Map;

/**
 * Per-token (tenant) limits of the API.
 *
 * @param requestsPerSecond sustained rate of authenticated requests per tenant on one coordinator
 *     ({@code SLUICE_API_RATE_LIMIT}; 0 turns the limit off)
 * @param burst how many requests a tenant may send at once after being idle ({@code
 *     SLUICE_API_RATE_BURST})
 * @param maxActiveJobs how many QUEUED, RUNNING or COLLECTING jobs a tenant may have ({@code
 *     SLUICE_TENANT_MAX_ACTIVE_JOBS}; 0 or unset: no quota)
 * @param maxActiveJobsByTenant per-tenant overrides of {@code maxActiveJobs} ({@code
 *     SLUICE_TENANT_QUOTAS=team-a=10,team-b=50})
 */
public record ApiLimits(
    double requestsPerSecond,
    int burst,
    int maxActiveJobs,
    Map<String, Integer> maxActiveJobsByTenant) {

  /** 200 requests per second with bursts of 400, no job quota. */
  public static final ApiLimits DEFAULT = new ApiLimits(200, 400, 0, Map.of());

  public ApiLimits {
    maxActiveJobsByTenant = Map.copyOf(maxActiveJobsByTenant);
    if (requestsPerSecond < 0 || requestsPerSecond > 1_000_000) {
      throw new ConfigException(
          "SLUICE_API_RATE_LIMIT", String.valueOf(requestsPerSecond), "must be 0-1000000");
    }
    if (burst < 1 || burst > 10_000_000) {
      throw new ConfigException(
          "SLUICE_API_RATE_BURST", String.valueOf(burst), "must be 1-10000000");
    }
    if (maxActiveJobs < 0) {
      throw new ConfigException(
          "SLUICE_TENANT_MAX_ACTIVE_JOBS", String.valueOf(maxActiveJobs), "must not be negative");
    }
  }

  public static ApiLimits fromEnv(Env env) {
    int rate = env.intValue("SLUICE_API_RATE_LIMIT", (int) DEFAULT.requestsPerSecond, 0, 1_000_000);
    return new ApiLimits(
        rate,
        env.intValue("SLUICE_API_RATE_BURST", Math.max(1, rate * 2), 1, 10_000_000),
        env.intValue("SLUICE_TENANT_MAX_ACTIVE_JOBS", 0, 0, 100_000_000),
        ConcurrencyLimits.parse("SLUICE_TENANT_QUOTAS", env.get("SLUICE_TENANT_QUOTAS")));
  }

  /** The tenant's quota of active jobs, or null when it has none. */
  public Integer quotaOf(String tenant) {
    Integer quota = maxActiveJobsByTenant.getOrDefault(tenant, maxActiveJobs);
    return quota == null || quota == 0 ? null : quota;
  }

  public boolean rateLimited() {
    return requestsPerSecond > 0;
  }

  @Override
  public String toString() {
    return "ApiLimits[rate="
        + (rateLimited() ? requestsPerSecond + "/s burst " + burst : "off")
        + ", maxActiveJobs="
        + (maxActiveJobs == 0 ? "off" : maxActiveJobs)
        + (maxActiveJobsByTenant.isEmpty() ? "" : " " + maxActiveJobsByTenant)
        + "]";
  }
}
