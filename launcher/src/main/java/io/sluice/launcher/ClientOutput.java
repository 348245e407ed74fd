package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.StageSnapshot;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * What the client commands print for people: a job as a few labelled lines, jobs and workers as
 * tables. With {@code --json} the commands print the API's JSON instead, on one line.
 */
final class ClientOutput {
  private ClientOutput() {}

  /** One JSON document on one line. */
  static String json(JsonNode json) {
    return json.toString();
  }

  /** A job as labelled lines: id, type, status, tasks, times, then its result or error. */
  static String job(JobView job) {
    JsonNode json = job.json();
    StringBuilder s = new StringBuilder();
    line(s, "job", job.id());
    line(s, "type", text(json, "type") + "  (queue " + text(json, "queue") + ")");
    line(s, "status", job.status() + "  (version " + text(json, "version") + ")");
    line(s, "tasks", tasks(job) + "  (" + job.failed() + " failed)");
    if (job.pipeline()) {
      s.append(stages(job.stages()));
    }
    line(s, "created", time(text(json, "createdAt")));
    line(s, "updated", time(text(json, "updatedAt")));
    if (!job.result().isMissingNode() && !job.result().isNull()) {
      line(s, "result", job.result().toString());
    }
    if (!job.error().isMissingNode() && !job.error().isNull()) {
      line(s, "error", job.error().isTextual() ? job.error().asText() : job.error().toString());
    }
    return s.toString();
  }

  /**
   * A pipeline's stages as a table under the label {@code stages}, one line per stage in the
   * server's (topological) order: name, status, tasks finished of its count, what it waits for.
   */
  static String stages(List<StageSnapshot> stages) {
    List<List<String>> rows = new ArrayList<>();
    for (StageSnapshot stage : stages) {
      rows.add(
          List.of(
              stage.name(),
              stage.status(),
              stage.tasksFinished()
                  + "/"
                  + stage.taskCount()
                  + (stage.tasksFailed() > 0 ? " (" + stage.tasksFailed() + " failed)" : ""),
              stage.dependsOn().isEmpty() ? "-" : String.join(", ", stage.dependsOn())));
    }
    String table = table(List.of("STAGE", "STATUS", "TASKS", "DEPENDS ON"), rows);
    StringBuilder s = new StringBuilder();
    String label = String.format("%-8s ", "stages");
    for (String row : table.split("\n")) {
      s.append(label).append(row).append('\n');
      label = " ".repeat(9);
    }
    return s.toString();
  }

  /** The items of a {@code GET /api/v1/jobs} page as a table, newest first. */
  static String jobs(JsonNode items) {
    if (items.isEmpty()) {
      return "No jobs.\n";
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode item : items) {
      JobView job = new JobView(item);
      rows.add(
          List.of(
              job.id(),
              job.status(),
              text(item, "type"),
              text(item, "queue"),
              tasks(job) + (job.failed() > 0 ? " (" + job.failed() + " failed)" : ""),
              time(text(item, "createdAt"))));
    }
    return table(List.of("ID", "STATUS", "TYPE", "QUEUE", "TASKS", "CREATED"), rows);
  }

  /** The items of {@code GET /api/v1/workers} as a table, latest heartbeat first. */
  static String workers(JsonNode items) {
    if (items.isEmpty()) {
      return "No workers or coordinators have registered.\n";
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode item : items) {
      JsonNode port = item.path("info").path("port");
      rows.add(
          List.of(
              text(item, "id"),
              text(item, "kind"),
              text(item, "status"),
              age(item.path("heartbeatAgeMs").asLong(-1)),
              text(item, "runningTasks"),
              port.isNumber() ? port.asText() : "-"));
    }
    return table(List.of("ID", "KIND", "STATUS", "HEARTBEAT", "RUNNING", "PORT"), rows);
  }

  /** {@code ./sluice queues}: one row per queue with its paused state and rate limit. */
  static String queues(JsonNode items) {
    if (items.isEmpty()) {
      return "No queues have jobs, a pause or a rate limit.\n";
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode item : items) {
      boolean paused = item.path("paused").asBoolean();
      JsonNode rate = item.path("rateLimit");
      rows.add(
          List.of(
              text(item, "name"),
              paused ? "PAUSED" : "RUNNING",
              paused ? text(item, "pausedAt") + " by " + text(item, "pausedBy") : "-",
              rate.isObject() ? rate.path("spec").asText() : "-",
              text(item, "waiting"),
              text(item, "pending"),
              text(item, "activeJobs")));
    }
    return table(
        List.of("QUEUE", "STATE", "PAUSED", "RATE", "WAITING", "READ", "ACTIVE JOBS"), rows);
  }

  /**
   * Columns as wide as their widest cell, two spaces apart; the last column is not padded.
   *
   * @param header the column names
   * @param rows cells, as many per row as there are columns
   */
  static String table(List<String> header, List<List<String>> rows) {
    int[] widths = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> row : all) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder s = new StringBuilder();
    for (List<String> row : all) {
      for (int i = 0; i < widths.length; i++) {
        boolean last = i == widths.length - 1;
        s.append(last ? row.get(i) : String.format("%-" + widths[i] + "s  ", row.get(i)));
      }
      s.append('\n');
    }
    return s.toString();
  }

  /** How long ago, e.g. {@code 0.4s ago}, {@code 12s ago}, {@code 3m05s ago}, {@code 2h10m ago}. */
  static String age(long millis) {
    if (millis < 0) {
      return "-";
    }
    if (millis < 10_000) {
      return String.format("%.1fs ago", millis / 1000.0);
    }
    long s = millis / 1000;
    if (s < 60) {
      return s + "s ago";
    }
    if (s < 3600) {
      return String.format("%dm%02ds ago", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format("%dh%02dm ago", s / 3600, s % 3600 / 60);
    }
    return s / 86_400 + "d ago";
  }

  /** An API timestamp to the second ({@code 2024-06-01T10:00:00Z}); other text unchanged. */
  static String time(String iso) {
    try {
      return Instant.parse(iso).truncatedTo(ChronoUnit.SECONDS).toString();
    } catch (DateTimeParseException e) {
      return iso;
    }
  }

  private static String tasks(JobView job) {
    return job.finished() + "/" + job.taskCount();
  }

  private static String text(JsonNode json, String field) {
    JsonNode v = json.path(field);
    return v.isMissingNode() || v.isNull() ? "-" : v.asText();
  }

  private static void line(StringBuilder s, String label, String value) {
    s.append(String.format("%-8s %s\n", label, value));
  }
}
