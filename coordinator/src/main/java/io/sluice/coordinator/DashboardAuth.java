package io.sluice.coordinator;

import io.sluice.config.ConfigException;
import java.util.Locale;

/** Whether the dashboard's read-only views need a bearer token; its actions always do. */
public enum DashboardAuth {
  /** Read-only views are open, like {@code /metrics} (the default). */
  NONE,
  /** Every GET under {@code /api/v1} needs a valid bearer token too. */
  TOKEN;

  /** Parses {@code SLUICE_DASHBOARD_AUTH}: {@code none} or {@code token}. */
  public static DashboardAuth parse(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "none" -> NONE;
      case "token" -> TOKEN;
      default ->
          throw new ConfigException(
              "SLUICE_DASHBOARD_AUTH", value, "must be 'none' (open read-only views) or 'token'");
    };
  }
}
