package io.sluice.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.Pipeline;
import io.sluice.client.Pipeline.StageSpec;
import io.sluice.client.SluiceClient;
import io.sluice.client.StageSnapshot;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code ./sluice demo}: embedded Redis and PostgreSQL, a coordinator and worker JVMs, one pipeline
 * over the bundled corpus (two {@code wordcount} stages over its two halves in parallel, joined by
 * a {@code merge} stage) with a progress bar per stage, the merged result checked against a count
 * made here, then everything stopped. Nothing touches the machine's own Redis or PostgreSQL.
 */
final class DemoCommand {
  private static final String TOTAL = "total";
  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration STALL_LIMIT = Duration.ofMinutes(2);
  private static final Set<String> VALUED = Set.of("workers", "lines-per-task");
  private static final Set<String> FLAGS = Set.of("keep-logs");

  private final PrintStream out;

  DemoCommand(PrintStream out) {
    this.out = out;
  }

  int run(List<String> arguments) {
    Args args = Args.parse(arguments, VALUED, FLAGS);
    int workers = args.intValue("workers", 2, 1, 16);
    int linesPerTask = args.intValue("lines-per-task", 400, 1, 1_000_000);
    Path work = LocalStack.tempDir("sluice-demo-");
    Path logs = work.resolve("logs");
    boolean ok = false;
    try {
      out.println("Sluice demo: a coordinator and " + workers + " workers on this machine");
      out.println("  logs         " + logs);
      Corpus corpus = Corpus.load();
      out.println("  servers      starting embedded Redis and PostgreSQL...");
      Servers servers = Servers.embedded(work.resolve("data"), "sluice");
      out.println("  servers      " + servers.description());
      String token = UUID.randomUUID().toString();
      var spec = new LocalStack.Spec("demo", logs, 0, workers, null, token);
      try (LocalStack stack = LocalStack.start(spec, servers, out)) {
        out.println(
            "  dashboard    "
                + stack.api().base()
                + "/#token="
                + token
                + "  (while the demo runs)");
        ok = runJob(stack.api(), corpus, linesPerTask);
        out.println("Dashboard was at " + stack.api().base() + "/ ; stopping everything...");
      }
      out.println(ok ? "Demo finished: the distributed count matches." : "Demo FAILED.");
      return ok ? 0 : LauncherException.FAILED;
    } finally {
      LocalStack.cleanUp(work, !ok || args.flag("keep-logs"), out);
    }
  }

  private boolean runJob(SluiceClient api, Corpus corpus, int linesPerTask) {
    out.printf(
        "Submitting a pipeline over %,d lines (%,d words), %d lines per task:%n"
            + "  wordcount stages left and right over each half of the lines, in parallel,%n"
            + "  joined by a merge stage total%n",
        corpus.lines(), corpus.totalWords(), linesPerTask);
    Pipeline pipeline = pipeline(corpus, linesPerTask);
    long start = System.nanoTime();
    JobView job = new JobView(CliClient.call(api, () -> api.submit(pipeline)).json());
    out.printf("  job %s%n", job.id());
    job =
        new JobWatcher(api, new ProgressBar(out), Duration.ofMillis(200), JOB_TIMEOUT, STALL_LIMIT)
            .watch(job, j -> {});
    double seconds = (System.nanoTime() - start) / 1e9;
    out.printf(
        "Job %s in %.1f s: %d tasks, %d succeeded, %d failed%n",
        job.status(), seconds, job.taskCount(), job.succeeded(), job.failed());
    out.print(ClientOutput.stages(job.stages()));
    if (!job.succeededJob()) {
      out.println("  error: " + job.error());
      return false;
    }
    JsonNode merged =
        job.stages().stream()
            .filter(s -> TOTAL.equals(s.name()))
            .findFirst()
            .map(StageSnapshot::result)
            .orElse(job.result().path(TOTAL));
    out.println("Merged result of stage " + TOTAL + ", checked against a count of the whole text:");
    return new ResultCheck(out).check(merged, corpus);
  }

  /**
   * Two {@code wordcount} stages, {@code left} and {@code right}, over the first and second half of
   * the corpus's lines, each listing every word's count, and a {@code merge} stage {@code total}
   * that depends on both.
   */
  static Pipeline pipeline(Corpus corpus, int linesPerTask) {
    List<String> halves = corpus.halves();
    return Pipeline.builder()
        .stage(StageSpec.of("left", "wordcount", wordcount(halves.get(0), linesPerTask)))
        .stage(StageSpec.of("right", "wordcount", wordcount(halves.get(1), linesPerTask)))
        .stage(StageSpec.of(TOTAL, "merge", null, "left", "right"))
        .build();
  }

  private static JsonNode wordcount(String text, int linesPerTask) {
    return CliClient.JSON
        .createObjectNode()
        .put("text", text)
        .put("linesPerTask", linesPerTask)
        .put("counts", true);
  }
}
