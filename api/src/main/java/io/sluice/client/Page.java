package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One page of a listing ({@code GET /api/v1/jobs}, {@code …/tasks}, {@code /api/v1/dead-letters}):
 * the answer's JSON, its {@code items} and the cursor of the next page.
 *
 * @param json the answer as the server sent it
 */
public record Page(JsonNode json) {

  /** The listed items, in the server's order. */
  public List<JsonNode> items() {
    List<JsonNode> items = new ArrayList<>();
    json.path("items").forEach(items::add);
    return items;
  }

  /** The items of a task listing, as tasks. */
  public List<TaskSnapshot> tasks() {
    List<TaskSnapshot> tasks = new ArrayList<>();
    json.path("items").forEach(t -> tasks.add(new TaskSnapshot(t)));
    return tasks;
  }

  /**
   * The cursor that continues after this page, or null. A full page always carries one, even when
   * nothing follows; the next page is then empty.
   */
  public String nextCursor() {
    JsonNode next = json.path("nextCursor");
    return next.isTextual() ? next.asText() : null;
  }
}
