package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * {@code submit}, {@code status} and {@code cancel}: the client side, against {@code
 * SLUICE_API_URL} with {@code SLUICE_API_TOKEN}. Exit codes: 0 done (for {@code --wait}/{@code
 * --watch}: the job SUCCEEDED), 1 the server refused or the job did not succeed, 2 bad usage, 3
 * coordinator unreachable.
 */
final class ClientCommands {
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration WAIT_LIMIT = Duration.ofDays(7);

  private final ApiClient api;
  private final PrintStream out;
  private final InputStream stdin;

  ClientCommands(ApiClient api, PrintStream out, InputStream stdin) {
    this.api = api;
    this.out = out;
    this.stdin = stdin;
  }

  int submit(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of("type", "payload"), Set.of("wait"));
    String type = args.require("type");
    JsonNode payload = readPayload(args.require("payload"));
    JobView job = api.submit(type, payload);
    if (!args.flag("wait")) {
      print(job.json());
      return 0;
    }
    System.err.println("job " + job.id() + " submitted");
    return waitFor(job);
  }

  int status(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of(), Set.of("watch"));
    JobView job = api.job(args.single("job id"));
    if (!args.flag("watch")) {
      print(job.json());
      return 0;
    }
    return waitFor(job);
  }

  int cancel(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of(), Set.of());
    print(api.cancel(args.single("job id")));
    return 0;
  }

  private int waitFor(JobView job) {
    // A person watching decides when to give up: no stall limit beyond the overall one.
    JobView last =
        new JobWatcher(api, new ProgressBar(System.err), POLL, WAIT_LIMIT, WAIT_LIMIT)
            .watch(job, j -> {});
    print(last.json());
    return last.succeededJob() ? 0 : LauncherException.FAILED;
  }

  private JsonNode readPayload(String source) {
    try {
      byte[] bytes =
          "-".equals(source) ? stdin.readAllBytes() : Files.readAllBytes(Path.of(source));
      return ApiClient.JSON.readTree(bytes);
    } catch (NoSuchFileException e) {
      throw LauncherException.usage("payload file " + source + " does not exist");
    } catch (IOException e) {
      throw LauncherException.usage(
          "payload "
              + ("-".equals(source) ? "from standard input" : source)
              + " is not JSON: "
              + e.getMessage());
    }
  }

  private void print(JsonNode json) {
    try {
      out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
    } catch (IOException e) {
      out.println(json);
    }
  }
}
