package io.sluice.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.Env;
import io.sluice.json.Json;
import io.sluice.store.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A schedule's definition as a request gives it ({@code POST} whole, {@code PATCH} in part),
 * checked field by field: a wrong one is a 400 naming it, and the job body is validated exactly as
 * a submit of it would be (its errors name {@code job.…}).
 */
final class ScheduleDefinition {
  static final List<String> CREATE_FIELDS =
      List.of("name", "cron", "every", "timezone", "job", "overlap", "catchUp", "paused");
  static final List<String> PATCHABLE = List.of("cron", "every", "job", "overlap", "paused");
  static final List<String> OVERLAPS = List.of("skip", "allow", "cancelPrevious");
  static final List<String> CATCH_UPS = List.of("none", "one");
  private static final String NAME = "[A-Za-z0-9_.-]{1,64}";

  private ScheduleDefinition() {}

  /** The schedule a {@code POST} body defines, first firing after {@code now}. */
  static Schedule create(JsonNode root, String tenant, Instant now, JobSubmitter submitter) {
    only(root, CREATE_FIELDS, "unknown field '%s'; a schedule has " + CREATE_FIELDS);
    JsonNode name = root.get("name");
    if (name == null || !name.isTextual() || !name.textValue().matches(NAME)) {
      throw invalid("name is required: 1-64 letters, digits, '_', '.' or '-'", "name");
    }
    String zone = text(root, "timezone", "UTC");
    Timing timing = timing(root, zone);
    boolean paused = bool(root, "paused", false);
    return new Schedule(
        UUID.randomUUID(),
        tenant,
        name.textValue(),
        timing.cron(),
        timing.every(),
        zone,
        job(root, tenant, submitter),
        choice(root, "overlap", "skip", OVERLAPS),
        choice(root, "catchUp", "none", CATCH_UPS),
        paused,
        1,
        timing.timing().next(now),
        null,
        null,
        0,
        0);
  }

  /**
   * {@code current} changed by a {@code PATCH} body. A new {@code cron} or {@code every}, or a
   * resume, makes the next fire time the first after {@code now}: the paused time is not caught up.
   */
  static Schedule patch(JsonNode root, Schedule current, Instant now, JobSubmitter submitter) {
    only(root, PATCHABLE, "unknown or unchangeable field '%s'; changeable: " + PATCHABLE);
    if (root.isEmpty()) {
      throw new ApiException(400, "the patch changes nothing; name at least one of " + PATCHABLE);
    }
    boolean retimed = root.has("cron") || root.has("every");
    Timing timing =
        retimed
            ? timing(root, current.timezone())
            : new Timing(current.cron(), current.every(), timing(current));
    boolean paused = bool(root, "paused", current.paused());
    Instant next = retimed || (current.paused() && !paused) ? timing.timing().next(now) : null;
    return current.redefined(
        timing.cron(),
        timing.every(),
        root.has("job") ? job(root, current.tenant(), submitter) : current.job(),
        choice(root, "overlap", current.overlap(), OVERLAPS),
        current.catchUp(),
        paused,
        next == null ? current.nextFireAt() : next);
  }

  /** When {@code s} fires. */
  static ScheduleTiming timing(Schedule s) {
    return s.cron() != null
        ? ScheduleTiming.cron(s.cron(), s.timezone())
        : ScheduleTiming.every(s.every());
  }

  /** The schedule as the API shows it. */
  static ObjectNode json(Schedule s) {
    ObjectNode o = Json.object().put("name", s.name()).put("tenant", s.tenant());
    if (s.cron() != null) {
      o.put("cron", s.cron());
    } else {
      o.put("every", every(s.every()));
    }
    o.put("timezone", s.timezone());
    o.set("job", s.job());
    o.put("overlap", s.overlap()).put("catchUp", s.catchUp()).put("paused", s.paused());
    o.put("version", s.version());
    o.put("nextFireAt", s.paused() ? null : s.nextFireAt().toString());
    o.put("lastFireAt", s.lastFireAt() == null ? null : s.lastFireAt().toString());
    o.put("lastJobId", s.lastJobId() == null ? null : s.lastJobId().toString());
    return o.put("fires", s.fires()).put("skipped", s.skipped());
  }

  /**
   * A period as it was most likely written: {@code 90s}, {@code 5m}, {@code 1h}, {@code 1500ms}.
   */
  static String every(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  private record Timing(String cron, Duration every, ScheduleTiming timing) {}

  private static Timing timing(JsonNode root, String zone) {
    boolean cron = present(root, "cron");
    boolean every = present(root, "every");
    if (cron == every) {
      throw invalid("give exactly one of cron and every", "cron");
    }
    if (cron) {
      String expression = text(root, "cron", null);
      try {
        return new Timing(expression, null, ScheduleTiming.cron(expression, zone));
      } catch (IllegalArgumentException e) {
        boolean badZone = e.getMessage() != null && e.getMessage().contains("not a time zone");
        throw invalid(
            (badZone ? "timezone " : "cron ") + e.getMessage(), badZone ? "timezone" : "cron");
      }
    }
    String text = text(root, "every", null);
    Duration period;
    try {
      period = Env.parseDuration(text);
    } catch (RuntimeException e) {
      throw invalid("every must be a duration such as 1s, 30s, 5m, 1h or PT1M", "every");
    }
    try {
      ScheduleTiming.zone(zone);
      return new Timing(null, period, ScheduleTiming.every(period));
    } catch (IllegalArgumentException e) {
      String field = e.getMessage().contains("time zone") ? "timezone" : "every";
      throw invalid(field + " " + e.getMessage(), field);
    }
  }

  /** The job body, validated as a submit; without an idempotency key or a runAt of its own. */
  private static JsonNode job(JsonNode root, String tenant, JobSubmitter submitter) {
    JsonNode job = root.get("job");
    if (job == null || !job.isObject()) {
      throw invalid("job is required: a submit body, as POST /api/v1/jobs takes", "job");
    }
    for (String own : List.of("idempotencyKey", "runAt")) {
      if (job.has(own)) {
        throw invalid(
            "job."
                + own
                + " is not allowed: each fire's job gets its own idempotency key and runs"
                + " at its fire time",
            "job." + own);
      }
    }
    try {
      submitter.prepare(tenant, SubmitRequestParser.parse(job));
    } catch (ApiException e) {
      throw prefixed(e);
    } catch (Refusal r) {
      throw prefixed(ApiErrors.toApi(r));
    }
    return job;
  }

  private static ApiException prefixed(ApiException e) {
    JsonNode field = e.body().get("field");
    e.body().put("field", field == null ? "job" : "job." + field.asText());
    return e;
  }

  private static void only(JsonNode root, List<String> allowed, String message) {
    root.fieldNames()
        .forEachRemaining(
            name -> {
              if (!allowed.contains(name)) {
                throw invalid(message.formatted(name), name);
              }
            });
  }

  private static boolean present(JsonNode root, String field) {
    return root.has(field) && !root.get(field).isNull();
  }

  private static String text(JsonNode root, String field, String fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isTextual() || node.textValue().isBlank() || node.textValue().length() > 200) {
      throw invalid(field + " must be a string of 1-200 characters", field);
    }
    return node.textValue();
  }

  private static boolean bool(JsonNode root, String field, boolean fallback) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isBoolean()) {
      throw invalid(field + " must be true or false", field);
    }
    return node.booleanValue();
  }

  private static String choice(JsonNode root, String field, String fallback, List<String> allowed) {
    String value = text(root, field, fallback);
    if (!allowed.contains(value)) {
      throw invalid(field + " must be one of " + allowed + ", got '" + value + "'", field);
    }
    return value;
  }

  private static ApiException invalid(String message, String field) {
    return new ApiException(400, message).with("field", field);
  }
}
