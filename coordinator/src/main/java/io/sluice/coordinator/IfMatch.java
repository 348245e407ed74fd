package io.sluice.coordinator;

import io.javalin.http.Context;

/** The {@code If-Match} header of a write: the version (the ETag of a read) it was based on. */
final class IfMatch {
  private IfMatch() {}

  /** The version named by {@code If-Match}; 428 when the header is missing. */
  static long required(Context ctx) {
    Long version = optional(ctx);
    if (version == null) {
      throw new ApiException(
          428,
          "this write needs If-Match: \"<version>\" (the ETag of a GET), so that it cannot overwrite a change it has not seen");
    }
    return version;
  }

  /** The version named by {@code If-Match}, or null when the header is absent. */
  static Long optional(Context ctx) {
    String header = ctx.header("If-Match");
    if (header == null || header.isBlank()) {
      return null;
    }
    return parse(header);
  }

  /** Accepts {@code "7"}, {@code W/"7"} and a bare {@code 7}. */
  static long parse(String header) {
    String v = header.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    try {
      long version = Long.parseLong(v);
      if (version >= 1) {
        return version;
      }
    } catch (NumberFormatException ignored) {
      // Falls through to the error below.
    }
    throw new ApiException(
            400, "If-Match must name one version as the ETag gave it, e.g. If-Match: \"3\"")
        .with("field", "If-Match");
  }
}
