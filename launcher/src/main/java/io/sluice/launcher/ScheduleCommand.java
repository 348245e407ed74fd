package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.Schedules;
import io.sluice.client.SluiceClient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code ./sluice schedules [list | get NAME | pause NAME | resume NAME | delete NAME] [--json]}:
 * the token's schedules (an admin token's: every tenant's) as a table, one as labelled lines, or a
 * change to one. A pause or resume reads the schedule's version and patches at it.
 */
final class ScheduleCommand {
  private final SluiceClient api;
  private final PrintStream out;

  ScheduleCommand(SluiceClient api, PrintStream out) {
    this.api = api;
    this.out = out;
  }

  int run(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of("limit"), Set.of("json"));
    List<String> words = args.positional();
    String action = words.isEmpty() ? "list" : words.get(0);
    Schedules schedules = api.schedules();
    if (action.equals("list")) {
      if (words.size() > 1) {
        throw LauncherException.usage("list takes no name, got " + words.subList(1, words.size()));
      }
      int limit = args.intValue("limit", 100, 1, 1000);
      JsonNode page = CliClient.call(api, () -> schedules.list(null, limit).json());
      out.print(args.flag("json") ? ClientOutput.json(page) + "\n" : table(page.path("items")));
      return 0;
    }
    if (words.size() != 2) {
      throw LauncherException.usage(
          "expected 'schedules [list | get NAME | pause NAME | resume NAME | delete NAME]', got "
              + words);
    }
    String name = words.get(1);
    JsonNode answer =
        switch (action) {
          case "get" -> CliClient.call(api, () -> schedules.get(name));
          case "pause" -> CliClient.call(api, () -> schedules.pause(name));
          case "resume" -> CliClient.call(api, () -> schedules.resume(name));
          case "delete" -> {
            CliClient.call(
                api,
                () -> {
                  schedules.delete(name);
                  return null;
                });
            out.println("schedule " + name + " deleted; the jobs it submitted stay");
            yield null;
          }
          default -> throw LauncherException.usage("unknown schedules action '" + action + "'");
        };
    if (answer != null) {
      out.print(args.flag("json") ? ClientOutput.json(answer) + "\n" : lines(answer));
    }
    return 0;
  }

  /** A schedule as labelled lines. */
  static String lines(JsonNode s) {
    StringBuilder b = new StringBuilder();
    for (String field :
        List.of(
            "name",
            "tenant",
            "cron",
            "every",
            "timezone",
            "overlap",
            "catchUp",
            "paused",
            "version",
            "nextFireAt",
            "lastFireAt",
            "lastJobId",
            "fires",
            "skipped")) {
      if (s.has(field)) {
        b.append(String.format("%-10s %s%n", field, text(s, field)));
      }
    }
    return b.append(String.format("%-10s %s%n", "job", s.path("job"))).toString();
  }

  /** The items of a listing as a table. */
  static String table(JsonNode items) {
    if (items.isEmpty()) {
      return "No schedules.\n";
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode s : items) {
      rows.add(
          List.of(
              text(s, "name"),
              text(s, "tenant"),
              s.has("cron") ? text(s, "cron") : "every " + text(s, "every"),
              s.path("paused").asBoolean() ? "paused" : text(s, "nextFireAt"),
              text(s, "fires"),
              text(s, "skipped"),
              text(s, "lastJobId")));
    }
    return ClientOutput.table(
        List.of("NAME", "TENANT", "WHEN", "NEXT", "FIRES", "SKIPPED", "LAST JOB"), rows);
  }

  private static String text(JsonNode json, String field) {
    JsonNode v = json.path(field);
    return v.isMissingNode() || v.isNull() ? "-" : v.asText();
  }
}
