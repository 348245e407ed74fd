package io.sluice.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.api.Collector;
import io.sluice.api.InvalidPayloadException;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.api.TaskResult;
import io.sluice.json.Json;
import java.util.Map;

/**
 * {@code wordcount}: payload {@code {"text", "linesPerTask", "taskDelayMs"?, "counts"?}}. Each task
 * counts the words (lower-cased, split on non-letters) of its lines; the collector merges the
 * counts into {@code {"totalWords", "distinctWords", "top": [[word, count], …]}}, with {@code
 * "counts": true} also {@code "counts": {word: n}} of every word (what {@code merge} joins). A lost
 * or double-counted task shows as a wrong {@code totalWords}.
 */
public final class WordCountJobType implements JobType {
  private static final int TOP = 20;

  @Override
  public String name() {
    return "wordcount";
  }

  @Override
  public void validate(Payload payload) {
    if (payload.stringField("text").isEmpty()) {
      throw new InvalidPayloadException("text", "must not be empty");
    }
    payload.intField("linesPerTask", 1, 1_000_000, null);
    payload.intField("taskDelayMs", 0, 600_000, 0);
    counts(payload);
  }

  /** Whether the result lists every word's count ({@code "counts": true}); false when absent. */
  private static boolean counts(Payload payload) {
    return payload.booleanField("counts", false);
  }

  @Override
  public Splitter splitter() {
    return (payload, sink) -> {
      String text = payload.stringField("text");
      int linesPerTask = payload.intField("linesPerTask", 1, 1_000_000, null);
      int delay = payload.intField("taskDelayMs", 0, 600_000, 0);
      int start = 0;
      while (start < text.length()) {
        int end = start;
        for (int lines = 0; lines < linesPerTask && end < text.length(); lines++) {
          int newline = text.indexOf('\n', end);
          end = newline < 0 ? text.length() : newline + 1;
        }
        ObjectNode input = Json.object().put("text", text.substring(start, end));
        if (delay > 0) {
          input.put("d", delay);
        }
        sink.accept(input);
        start = end;
      }
    };
  }

  @Override
  public TaskHandler handler() {
    return ctx -> {
      long delay = ctx.input().path("d").asLong(0);
      if (delay > 0) {
        Thread.sleep(delay);
      }
      Map<String, Integer> counts = WordCounts.count(ctx.input().path("text").asText());
      ObjectNode output = Json.object();
      counts.forEach(output::put);
      return TaskResult.success(output);
    };
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) ->
        WordCounts.collect(outcomes, output -> output, TOP, counts(payload));
  }
}
