package io.sluice.e2e;

import io.sluice.api.Collector;
import io.sluice.api.JobType;
import io.sluice.api.Payload;
import io.sluice.api.Splitter;
import io.sluice.api.TaskHandler;
import io.sluice.builtin.WordCountJobType;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test job type {@code slowcollect}: {@code wordcount} whose collector first prints {@code
 * slowcollect: collecting <key> on <SLUICE_NODE_ID>} to standard output, then waits {@code
 * collectDelayMs}, then merges as {@code wordcount} does. A test reads the coordinators' logs to
 * learn which one is collecting, and kills it mid-collection. With {@code "once": true} only the
 * first collection of {@code key} on this machine waits (a marker file in the temporary directory
 * says it began), so the coordinator that takes a killed collection over finishes it at once.
 */
public final class SlowCollectJobType implements JobType {
  private final WordCountJobType wordcount = new WordCountJobType();

  @Override
  public String name() {
    return "slowcollect";
  }

  @Override
  public void validate(Payload payload) {
    wordcount.validate(payload);
  }

  @Override
  public Splitter splitter() {
    return wordcount.splitter();
  }

  @Override
  public TaskHandler handler() {
    return wordcount.handler();
  }

  @Override
  public Collector collector() {
    return (payload, outcomes) -> {
      System.out.println(
          "slowcollect: collecting "
              + payload.stringField("key")
              + " on "
              + System.getenv("SLUICE_NODE_ID"));
      System.out.flush();
      if (!payload.json().path("once").asBoolean(false) || firstCollection(payload)) {
        Thread.sleep(payload.intField("collectDelayMs", 0, 600_000, 0));
      }
      return wordcount.collector().collect(payload, outcomes);
    };
  }

  private static boolean firstCollection(Payload payload) throws IOException {
    Path marker =
        Path.of(System.getProperty("java.io.tmpdir"), "slowcollect-" + payload.stringField("key"));
    try {
      Files.createFile(marker);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    }
  }
}
