package io.sluice.coordinator;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The path and query parameters of the API, each read by one rule; a value that breaks it is a 400
 * naming the parameter ({@code field}). {@code If-Match} is {@link IfMatch}'s.
 */
final class RequestParams {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;
  // The canonical 8-4-4-4-12 form only: UUID.fromString also takes "1-2-3-4-5".
  private static final Pattern UUID_TEXT =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final long MAX_CURSOR_SECOND =
      Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();

  /** Where a page of jobs continues: after the job created at {@code createdAt} with {@code id}. */
  record JobsCursor(Instant createdAt, UUID id) {}

  private RequestParams() {}

  /** The job id of the path ({@code {id}}). */
  static UUID jobId(Context ctx) {
    return jobId(ctx.pathParam("id"));
  }

  /** A job id as the path gave it. */
  static UUID jobId(String raw) {
    if (raw == null || !UUID_TEXT.matcher(raw).matches()) {
      throw new ApiException(400, "job id must be a UUID").with("field", "id");
    }
    return UUID.fromString(raw);
  }

  /** The task sequence number of the path ({@code {seq}}): 0 or more. */
  static int seq(Context ctx) {
    return seq(ctx.pathParam("seq"));
  }

  /** A task sequence number as the path gave it. */
  static int seq(String raw) {
    try {
      int seq = Integer.parseInt(raw);
      if (seq >= 0) {
        return seq;
      }
    } catch (NumberFormatException ignored) {
      // Falls through to the error below.
    }
    throw new ApiException(400, "seq must be a task's sequence number (0 or more)")
        .with("field", "seq");
  }

  /** {@code limit}: 1–{@value #MAX_LIMIT}, {@value #DEFAULT_LIMIT} when absent. */
  static int limit(Context ctx) {
    return limit(ctx.queryParam("limit"));
  }

  /** {@code limit} as the query gave it. */
  static int limit(String raw) {
    if (raw == null || raw.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    try {
      int limit = Integer.parseInt(raw);
      if (limit >= 1 && limit <= MAX_LIMIT) {
        return limit;
      }
    } catch (NumberFormatException ignored) {
      // Falls through to the error below.
    }
    throw new ApiException(400, "limit must be an integer between 1 and " + MAX_LIMIT)
        .with("field", "limit");
  }

  /** An enum query parameter in any case; null when absent. */
  static <E extends Enum<E>> E enumParam(Context ctx, String name, Class<E> type) {
    String raw = ctx.queryParam(name);
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    try {
      return Enum.valueOf(type, raw.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ApiException(
              400, name + " must be one of " + Arrays.toString(type.getEnumConstants()))
          .with("field", name);
    }
  }

  /** The {@code cursor} of a page of jobs, as {@link #jobsCursor(Instant, UUID)} wrote it. */
  static JobsCursor jobsCursor(Context ctx) {
    return jobsCursor(ctx.queryParam("cursor"));
  }

  /** A page of jobs' {@code cursor} as the query gave it; null when absent. */
  static JobsCursor jobsCursor(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return null;
    }
    try {
      String[] parts =
          new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|");
      Instant created = Instant.parse(parts[0]);
      if (created.isBefore(Instant.EPOCH) || created.getEpochSecond() > MAX_CURSOR_SECOND) {
        throw new IllegalArgumentException("cursor time out of range");
      }
      return new JobsCursor(created, UUID.fromString(parts[1]));
    } catch (RuntimeException e) {
      throw new ApiException(400, "cursor is not one this API returned").with("field", "cursor");
    }
  }

  /** The cursor that continues a page of jobs after the job created at {@code createdAt}. */
  static String jobsCursor(Instant createdAt, UUID id) {
    String next = createdAt + "|" + id;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(next.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Where a page of tasks continues: after task {@code afterSeq} (-1: from the first) of the stage
   * at {@code stage} in topological order.
   */
  record TasksCursor(int stage, int afterSeq) {}

  /** The {@code cursor} of a page of tasks; from the first task when absent. */
  static TasksCursor tasksCursor(Context ctx) {
    return tasksCursor(ctx.queryParam("cursor"));
  }

  /**
   * A page of tasks' {@code cursor} as the query gave it: the last sequence number shown, preceded
   * by {@code "<stage index>:"} past a pipeline's first stage (so a one-stage job's cursor is the
   * plain sequence number it always was).
   */
  static TasksCursor tasksCursor(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return new TasksCursor(0, -1);
    }
    try {
      int colon = cursor.indexOf(':');
      TasksCursor c =
          colon < 0
              ? new TasksCursor(0, Integer.parseInt(cursor))
              : new TasksCursor(
                  Integer.parseInt(cursor.substring(0, colon)),
                  Integer.parseInt(cursor.substring(colon + 1)));
      if (c.stage() < 0 || c.afterSeq() < -1) {
        throw new NumberFormatException("negative");
      }
      return c;
    } catch (NumberFormatException e) {
      throw new ApiException(400, "cursor must be the nextCursor of a previous page")
          .with("field", "cursor");
    }
  }

  /** The cursor after task {@code seq} of the stage at {@code stage}. */
  static String tasksCursor(int stage, int seq) {
    return stage == 0 ? String.valueOf(seq) : stage + ":" + seq;
  }
}
