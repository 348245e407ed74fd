package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.JobRequest;
import io.sluice.client.SluiceClient;
import io.sluice.store.JobStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The client side of {@code ./sluice}: {@code submit}, {@code status}, {@code cancel}, {@code
 * jobs}, {@code workers}, {@code drain}, {@code queues} and {@code schedules} ({@link
 * ScheduleCommand}), against {@code SLUICE_API_URL} with {@code SLUICE_API_TOKEN}. People get text;
 * {@code --json} prints one JSON document on standard output and nothing else there (progress and
 * messages go to standard error). The exit codes are {@link LauncherException}'s: 0 done (for
 * {@code --wait}/{@code --watch}: the job SUCCEEDED), 1 the server refused or the job FAILED, 2 bad
 * usage, 3 no answer from the server, 4 the job was CANCELLED.
 */
final class ClientCommands {
  static final int PAGE_SIZE = 500;
  private static final int MAX_NODES = 1000;
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration WAIT_LIMIT = Duration.ofDays(7);

  private final SluiceClient api;
  private final PrintStream out;
  private final PrintStream err;
  private final InputStream stdin;

  ClientCommands(SluiceClient api, PrintStream out, PrintStream err, InputStream stdin) {
    this.api = api;
    this.out = out;
    this.err = err;
    this.stdin = stdin;
  }

  /**
   * Runs one client command; a failure is one line on standard error.
   *
   * @return the exit code
   */
  int run(String command, List<String> args) {
    try {
      return switch (command) {
        case "submit" -> submit(args);
        case "status" -> status(args);
        case "cancel" -> cancel(args);
        case "jobs" -> jobs(args);
        case "workers" -> workers(args);
        case "drain" -> drain(args);
        case "schedules" -> new ScheduleCommand(api, out).run(args);
        case "queues" -> queues(args);
        default -> throw LauncherException.usage("unknown command '" + command + "'");
      };
    } catch (LauncherException e) {
      err.println("sluice " + command + ": " + e.getMessage());
      return e.exitCode();
    }
  }

  int submit(List<String> arguments) {
    Args args =
        Args.parse(
            arguments,
            Set.of("type", "payload", "queue", "concurrency-key", "concurrency-limit"),
            Set.of("wait", "json"));
    String type = args.require("type");
    none(args);
    JobRequest request = JobRequest.of(type, readPayload(args.require("payload")));
    if (args.value("queue") != null) {
      request = request.queue(args.value("queue"));
    }
    String key = args.value("concurrency-key");
    if (key != null) {
      request =
          args.value("concurrency-limit") == null
              ? request.concurrencyKey(key)
              : request.concurrencyKey(key, args.intValue("concurrency-limit", 1, 1, 1_000_000));
    } else if (args.value("concurrency-limit") != null) {
      throw LauncherException.usage("--concurrency-limit needs --concurrency-key");
    }
    JobRequest submitted = request;
    JobView job = new JobView(CliClient.call(api, () -> api.submit(submitted)).json());
    if (!args.flag("wait")) {
      printJob(job, args);
      return 0;
    }
    err.println("job " + job.id() + " submitted");
    return waitFor(job, args);
  }

  int status(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of(), Set.of("watch", "json"));
    String id = args.single("job id");
    JobView job = new JobView(CliClient.call(api, () -> api.get(id)).json());
    if (!args.flag("watch")) {
      printJob(job, args);
      return 0;
    }
    return waitFor(job, args);
  }

  int cancel(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of(), Set.of("json"));
    String id = args.single("job id");
    printJob(new JobView(CliClient.call(api, () -> api.cancel(id)).json()), args);
    return 0;
  }

  /** Newest first, following the API's {@code nextCursor} until {@code --limit} jobs are shown. */
  int jobs(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of("status", "limit", "cursor"), Set.of("json"));
    none(args);
    String status = jobStatus(args.value("status"));
    int limit = args.intValue("limit", 50, 1, 100_000);
    ObjectNode listing =
        collect(
            (cursor, n) -> CliClient.call(api, () -> api.jobs(status, cursor, n).json()),
            args.value("cursor"),
            limit,
            PAGE_SIZE);
    if (args.flag("json")) {
      out.println(ClientOutput.json(listing));
      return 0;
    }
    out.print(ClientOutput.jobs(listing.path("items")));
    if (listing.path("nextCursor").isTextual()) {
      err.println(
          "More jobs may follow: ./sluice jobs --cursor "
              + listing.path("nextCursor").asText()
              + (status == null ? "" : " --status " + status));
    }
    return 0;
  }

  int workers(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of("limit"), Set.of("json"));
    none(args);
    int limit = args.intValue("limit", 100, 1, MAX_NODES);
    JsonNode listing = CliClient.call(api, () -> api.workers(limit));
    out.print(
        args.flag("json")
            ? ClientOutput.json(listing) + "\n"
            : ClientOutput.workers(listing.path("items")));
    return 0;
  }

  /**
   * {@code queues} lists the queues; {@code queues pause Q} and {@code queues resume Q} (an admin
   * token) change one and print it.
   */
  int queues(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of(), Set.of("json"));
    List<String> words = args.positional();
    JsonNode answer;
    if (words.isEmpty()) {
      answer = CliClient.call(api, api::listQueues);
    } else if (words.size() == 2 && words.get(0).equals("pause")) {
      answer = CliClient.call(api, () -> api.pauseQueue(words.get(1)));
    } else if (words.size() == 2 && words.get(0).equals("resume")) {
      answer = CliClient.call(api, () -> api.resumeQueue(words.get(1)));
    } else {
      throw LauncherException.usage("expected queues, queues pause QUEUE or queues resume QUEUE");
    }
    if (args.flag("json")) {
      out.println(ClientOutput.json(answer));
    } else if (words.isEmpty()) {
      out.print(ClientOutput.queues(answer.path("items")));
    } else {
      out.println(
          "queue "
              + answer.path("name").asText()
              + (answer.path("paused").asBoolean()
                  ? " is paused: no new task of it starts; running ones finish"
                  : " is running: workers start its tasks again"));
    }
    return 0;
  }

  /** {@code drain URL} or {@code drain WORKER_ID [--host H]}; see {@link DrainTarget}. */
  int drain(List<String> arguments) {
    Args args = Args.parse(arguments, Set.of("host"), Set.of("json"));
    String target = args.single("worker URL or id");
    DrainTarget drain;
    if (DrainTarget.isUrl(target)) {
      if (args.value("host") != null) {
        throw LauncherException.usage("--host goes with a worker id, not a URL");
      }
      drain = DrainTarget.ofUrl(target);
    } else {
      String host = args.value("host") == null ? api.base().getHost() : args.value("host");
      drain = DrainTarget.ofWorker(target, CliClient.call(api, () -> api.workers(MAX_NODES)), host);
    }
    URI url = drain.url();
    JsonNode answer = CliClient.call("worker", null, () -> api.drainWorker(url));
    ObjectNode result = CliClient.JSON.createObjectNode().put("worker", drain.workerId());
    result.put("url", drain.url().toString());
    if (answer.isObject()) {
      result.setAll((ObjectNode) answer);
    }
    if (args.flag("json")) {
      out.println(ClientOutput.json(result));
    } else {
      out.println(
          (drain.workerId() == null ? "the worker" : "worker " + drain.workerId())
              + " at "
              + drain.url()
              + " is "
              + result.path("status").asText("draining")
              + ": it stops fetching, lets running tasks finish, hands back the rest and exits");
    }
    return 0;
  }

  /** A source of job pages: {@code cursor} (null for the first page) and a page size. */
  interface Pages {
    JsonNode page(String cursor, int limit);
  }

  /**
   * Reads pages until {@code limit} items or the last page; the result's {@code nextCursor}
   * continues after the last item returned (null when the API said there is no more).
   */
  static ObjectNode collect(Pages pages, String cursor, int limit, int pageSize) {
    ObjectNode listing = CliClient.JSON.createObjectNode();
    ArrayNode items = listing.putArray("items");
    String next = cursor;
    do {
      JsonNode page = pages.page(next, Math.min(pageSize, limit - items.size()));
      JsonNode pageItems = page.path("items");
      pageItems.forEach(items::add);
      JsonNode nextCursor = page.path("nextCursor");
      next = nextCursor.isTextual() && !pageItems.isEmpty() ? nextCursor.asText() : null;
    } while (next != null && items.size() < limit);
    listing.put("nextCursor", next);
    return listing;
  }

  /**
   * A job status in any case, as the API spells it; null stays null. WAITING is not one: only a
   * stage of a pipeline waits, and {@code jobs} lists jobs.
   */
  static String jobStatus(String raw) {
    if (raw == null) {
      return null;
    }
    String upper = raw.trim().toUpperCase(Locale.ROOT);
    List<String> statuses =
        Arrays.stream(JobStatus.values())
            .filter(s -> s != JobStatus.WAITING)
            .map(JobStatus::name)
            .toList();
    if (!statuses.contains(upper)) {
      throw LauncherException.usage("--status " + raw + " is not one of " + statuses);
    }
    return upper;
  }

  /** The exit code of a followed job: 0 SUCCEEDED, 4 CANCELLED, 1 anything else. */
  static int exitCode(JobView job) {
    return switch (job.status()) {
      case "SUCCEEDED" -> 0;
      case "CANCELLED" -> LauncherException.CANCELLED;
      default -> LauncherException.FAILED;
    };
  }

  private int waitFor(JobView job, Args args) {
    // A person watching decides when to give up: no stall limit beyond the overall one.
    JobView last =
        new JobWatcher(api, new ProgressBar(err), POLL, WAIT_LIMIT, WAIT_LIMIT).watch(job, j -> {});
    printJob(last, args);
    return exitCode(last);
  }

  private void printJob(JobView job, Args args) {
    out.print(args.flag("json") ? ClientOutput.json(job.json()) + "\n" : ClientOutput.job(job));
  }

  private static void none(Args args) {
    if (!args.positional().isEmpty()) {
      throw LauncherException.usage("unexpected " + args.positional());
    }
  }

  private JsonNode readPayload(String source) {
    try {
      byte[] bytes =
          "-".equals(source) ? stdin.readAllBytes() : Files.readAllBytes(Path.of(source));
      JsonNode payload = CliClient.JSON.readTree(bytes);
      if (payload == null || payload.isMissingNode()) {
        throw new IOException("it is empty");
      }
      return payload;
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
}
