package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.client.SluiceClient;
import io.sluice.config.ApiTokens;
import io.sluice.config.DatabaseConfig;
import io.sluice.config.RedisConfig;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.CoordinatorConfig;
import io.sluice.embedded.ChildJvm;
import io.sluice.embedded.FreePort;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import io.sluice.worker.Worker;
import io.sluice.worker.WorkerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client commands against a real coordinator and an in-process worker on the test's own
 * database and key prefix: what they print (one JSON document with {@code --json}, nothing on
 * standard output after an error) and their exit codes. {@code drain} is tried on a worker JVM of
 * its own, since a drained worker exits its process.
 */
@ExtendWith(SluiceTestExtension.class)
class ClientCommandsIT {
  private static final String TOKEN = "cli-test-token-0123456789";
  private static final String ADMIN = "cli-admin-token-0123456789";
  private static Coordinator coordinator;
  private static Worker worker;
  private static String workerId;

  @BeforeAll
  static void start(TestEnvironment env) {
    RedisConfig redis = RedisConfig.parse(env.redisUrl(), env.redisPrefix());
    coordinator =
        Coordinator.start(
            CoordinatorConfig.builder(database(env, 4), redis, ApiTokens.parse("cli:" + TOKEN))
                .adminTokens(ApiTokens.parse("ops:" + ADMIN))
                .httpPort(0)
                .nodeId("coord-" + env.redisPrefix())
                .sweepInterval(Duration.ofMillis(200))
                .leaderLease(Duration.ofSeconds(2))
                .build());
    workerId = "w-" + env.redisPrefix();
    worker =
        Worker.start(
            WorkerConfig.builder(database(env, 3), redis)
                .workerId(workerId)
                .queues(List.of("default"))
                .concurrency(8)
                .lease(Duration.ofSeconds(10))
                .retryBase(Duration.ofMillis(50))
                .retryMax(Duration.ofMillis(200))
                .drainGrace(Duration.ofSeconds(2))
                .httpPort(0)
                .build());
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
  }

  @Test
  void submitWaitJsonPrintsOnlyTheFinishedJobAndExitsZero(@TempDir Path dir) throws IOException {
    Path payload = Files.writeString(dir.resolve("payload.json"), "{\"tasks\": 5}");
    Run run =
        cli("", "submit", "--type", "noop", "--payload", payload.toString(), "--wait", "--json");
    assertThat(run.exit).as("%s", run).isZero();
    JsonNode job = run.json();
    assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(job.path("tasksSucceeded").asInt())
        .isEqualTo(job.path("taskCount").asInt())
        .isEqualTo(5);
    assertThat(run.err)
        .contains("job " + job.path("id").asText() + " submitted")
        .contains("5/5 tasks");
  }

  @Test
  void submitFromStandardInputAndStatusPrintTheJobForPeople() {
    Run submit = cli("{\"tasks\": 2}", "submit", "--type", "noop", "--payload", "-");
    assertThat(submit.exit).as("%s", submit).isZero();
    assertThat(submit.out).startsWith("job      ").contains("type     noop  (queue default)");
    String id = submit.out.lines().findFirst().orElseThrow().substring(9).trim();

    Run watch = cli("", "status", id, "--watch");
    assertThat(watch.exit).as("%s", watch).isZero();
    assertThat(watch.out).contains("status   SUCCEEDED").contains("tasks    2/2  (0 failed)");

    Run status = cli("", "status", id, "--json");
    assertThat(status.exit).isZero();
    assertThat(status.json().path("id").asText()).isEqualTo(id);
  }

  @Test
  void aCancelledJobIsPrintedAndWatchingItExitsWithFour() {
    Run submit =
        cli(
            "{\"tasks\": 20, \"taskDelayMs\": 300}",
            "submit",
            "--type",
            "noop",
            "--payload",
            "-",
            "--json");
    String id = submit.json().path("id").asText();

    Run cancel = cli("", "cancel", id, "--json");
    assertThat(cancel.exit).as("%s", cancel).isZero();
    assertThat(cancel.json().path("status").asText()).isEqualTo("CANCELLED");

    Run watch = cli("", "status", id, "--watch", "--json");
    assertThat(watch.exit).as("%s", watch).isEqualTo(4);
    assertThat(watch.json().path("status").asText()).isEqualTo("CANCELLED");
  }

  @Test
  void queuesPauseAndResumeWithAnAdminTokenListTheStateAndRefuseATenantsToken() {
    Run refused = cli("", "queues", "pause", "cli-mail");
    assertThat(refused.exit).isEqualTo(1);
    assertThat(refused.out).isEmpty();
    assertThat(refused.err).contains("answered 403").contains("needs an admin token");

    Run paused = new Run(CliClient.create(api(), ADMIN), "", "queues", "pause", "cli-mail");
    assertThat(paused.exit).as("%s", paused).isZero();
    assertThat(paused.out).contains("queue cli-mail is paused");
    JsonNode listing = new Run(CliClient.create(api(), ADMIN), "", "queues", "--json").json();
    assertThat(listing.path("paused").toString()).contains("cli-mail");
    Run table = new Run(CliClient.create(api(), ADMIN), "", "queues");
    assertThat(table.out).startsWith("QUEUE").contains("cli-mail").contains("PAUSED");

    Run resumed = new Run(CliClient.create(api(), ADMIN), "", "queues", "resume", "cli-mail");
    assertThat(resumed.out).contains("queue cli-mail is running");
    Run usage = cli("", "queues", "stop", "cli-mail");
    assertThat(usage.exit).isEqualTo(2);
    assertThat(usage.err).contains("expected queues, queues pause QUEUE or queues resume QUEUE");
  }

  @Test
  void aRejectedRequestExitsWithOneAndLeavesStandardOutputEmpty() {
    Run unknownType = cli("{}", "submit", "--type", "nope", "--payload", "-", "--json");
    assertThat(unknownType.exit).isEqualTo(1);
    assertThat(unknownType.out).isEmpty();
    assertThat(unknownType.err)
        .startsWith("sluice submit: the coordinator answered 400 to POST /api/v1/jobs")
        .contains("unknown job type 'nope'");

    Run missing = cli("", "status", "00000000-0000-0000-0000-000000000000", "--json");
    assertThat(missing.exit).isEqualTo(1);
    assertThat(missing.out).isEmpty();
    assertThat(missing.err).contains("answered 404").contains("no job with id");

    Run badToken =
        new Run(
            CliClient.create(api(), "not-the-token"),
            "{\"tasks\": 1}",
            "submit",
            "--type",
            "noop",
            "--payload",
            "-");
    assertThat(badToken.exit).isEqualTo(1);
    assertThat(badToken.err).contains("answered 401").contains("set SLUICE_API_TOKEN");
  }

  @Test
  void jobsListsNewestFirstAndContinuesFromTheCursor() {
    List<String> submitted = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      submitted.add(
          cli("{\"tasks\": 1}", "submit", "--type", "noop", "--payload", "-", "--json")
              .json()
              .path("id")
              .asText());
    }
    List<String> all = ids(cli("", "jobs", "--limit", "1000", "--json").json());
    assertThat(all).hasSizeGreaterThanOrEqualTo(4).startsWith(submitted.getLast());
    assertThat(all).containsAll(submitted);

    JsonNode first = cli("", "jobs", "--limit", "2", "--json").json();
    assertThat(ids(first)).isEqualTo(all.subList(0, 2));
    String cursor = first.path("nextCursor").asText();
    JsonNode second = cli("", "jobs", "--limit", "2", "--cursor", cursor, "--json").json();
    assertThat(ids(second)).isEqualTo(all.subList(2, 4));

    Run text = cli("", "jobs", "--limit", "2");
    assertThat(text.exit).isZero();
    List<String> lines = text.out.lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.getFirst()).startsWith("ID ").contains("STATUS");
    assertThat(text.err).contains("More jobs may follow: ./sluice jobs --cursor " + cursor);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> cli("", "jobs", "--status", "queued", "--json").json().path("items").isEmpty());
    JsonNode succeeded = cli("", "jobs", "--status", "succeeded", "--json").json();
    assertThat(succeeded.path("items").findValuesAsText("status"))
        .isNotEmpty()
        .containsOnly("SUCCEEDED");
  }

  @Test
  void schedulesAreCreatedByTheJavaClientAndListedPausedResumedAndDeletedByTheCli() {
    SluiceClient client = CliClient.create(api(), TOKEN);
    JsonNode created =
        client
            .schedules()
            .create(
                (ObjectNode)
                    CliClient.JSON
                        .createObjectNode()
                        .put("name", "nightly")
                        .put("cron", "0 2 * * *")
                        .put("timezone", "Europe/Berlin")
                        .set(
                            "job",
                            CliClient.JSON
                                .createObjectNode()
                                .put("type", "noop")
                                .set(
                                    "payload", CliClient.JSON.createObjectNode().put("tasks", 1))));
    assertThat(created.path("nextFireAt").asText()).endsWith("Z");

    Run list = cli("", "schedules");
    Run paused = cli("", "schedules", "pause", "nightly", "--json");
    Run get = cli("", "schedules", "get", "nightly");
    Run resumed = cli("", "schedules", "resume", "nightly", "--json");
    Run deleted = cli("", "schedules", "delete", "nightly");
    Run missing = cli("", "schedules", "get", "nightly");
    Run wrong = cli("", "schedules", "explode", "nightly");

    assertThat(list.out).startsWith("NAME").contains("nightly").contains("0 2 * * *");
    assertThat(paused.json().path("paused").asBoolean()).isTrue();
    assertThat(paused.json().path("version").asLong()).isEqualTo(2);
    assertThat(get.out).contains("paused     true").contains("timezone   Europe/Berlin");
    assertThat(resumed.json().path("paused").asBoolean()).isFalse();
    assertThat(resumed.json().path("nextFireAt").isTextual()).isTrue();
    assertThat(deleted.exit).as("%s", deleted).isZero();
    assertThat(missing.exit).isEqualTo(LauncherException.FAILED);
    assertThat(missing.err).contains("no schedule named 'nightly'");
    assertThat(wrong.exit).isEqualTo(LauncherException.USAGE);
  }

  @Test
  void workersListsTheRunningWorkerWithItsPort() {
    // A worker started on port 0 heartbeats its real port from its second heartbeat on.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              JsonNode listing = cli("", "workers", "--json").json();
              return listing.path("items").findValuesAsText("id").contains(workerId)
                  && node(listing, workerId).path("info").path("port").asInt() == worker.port();
            });
    JsonNode me = node(cli("", "workers", "--json").json(), workerId);
    assertThat(me.path("kind").asText()).isEqualTo("worker");
    assertThat(me.path("status").asText()).isEqualTo("UP");

    Run text = cli("", "workers");
    assertThat(text.out)
        .startsWith("ID")
        .contains(workerId)
        .contains(String.valueOf(worker.port()));
  }

  @Test
  void drainByIdStopsAWorkerJvmWhichExitsZero(TestEnvironment env, @TempDir Path dir) {
    String id = "drain-me-" + env.redisPrefix();
    int port = FreePort.find();
    try (ChildJvm child =
        ChildJvm.builder(LocalStack.WORKER_MAIN)
            .name(id)
            .jvmArgs(LocalStack.childJvmArgs())
            .env(env.sluiceEnv())
            .env("SLUICE_HTTP_PORT", Integer.toString(port))
            .env("SLUICE_WORKER_ID", id)
            .env("SLUICE_WORKER_CONCURRENCY", "2")
            .env("SLUICE_DRAIN_GRACE", "1s")
            .logFile(dir.resolve("worker.log"))
            .start()) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  !child.isAlive()
                      || cli("", "workers", "--json").out.contains(id)
                          // Listed from its first heartbeat, which comes before its port opens.
                          && CliClient.create("http://127.0.0.1:" + port, null).ready());
      assertThat(child.isAlive()).as("child worker; log:%n%s", child.logTail(30)).isTrue();

      Run drain = cli("", "drain", id, "--json");
      assertThat(drain.exit).as("%s", drain).isZero();
      JsonNode answer = drain.json();
      assertThat(answer.path("worker").asText()).isEqualTo(id);
      assertThat(answer.path("url").asText())
          .isEqualTo("http://127.0.0.1:" + port + "/admin/drain");
      assertThat(answer.path("status").asText()).isEqualTo("DRAINING");
      assertThat(child.waitFor(Duration.ofSeconds(20))).hasValue(0);

      Run again = cli("", "drain", "http://127.0.0.1:" + port);
      assertThat(again.exit).isEqualTo(3);
      assertThat(again.out).isEmpty();
      assertThat(again.err)
          .contains(
              "cannot reach the worker at http://127.0.0.1:"
                  + port
                  + "/admin/drain (connection refused)");
    }

    Run unknown = cli("", "drain", "no-such-worker");
    assertThat(unknown.exit).isEqualTo(1);
    assertThat(unknown.err).contains("the coordinator lists no worker 'no-such-worker'");
  }

  @Test
  void anUnreachableCoordinatorIsNamedWithTheCauseAndExitsWithThree() {
    String url = "http://127.0.0.1:" + FreePort.find();
    SluiceClient nowhere = CliClient.create(url, TOKEN);
    for (List<String> command :
        List.of(
            List.of("status", "some-job", "--json"),
            List.of("jobs", "--json"),
            List.of("workers"),
            List.of("cancel", "some-job"),
            List.of("drain", "some-worker"),
            List.of("submit", "--type", "noop", "--payload", "-", "--wait"))) {
      Run run = new Run(nowhere, "{\"tasks\": 1}", command.toArray(String[]::new));
      assertThat(run.exit).as("%s", run).isEqualTo(3);
      assertThat(run.out).isEmpty();
      assertThat(run.err)
          .isEqualTo(
              "sluice "
                  + command.getFirst()
                  + ": cannot reach the coordinator at "
                  + url
                  + " (connection refused). Is it running? Point SLUICE_API_URL at it.\n");
    }
  }

  private static DatabaseConfig database(TestEnvironment env, int pool) {
    return new DatabaseConfig(env.jdbcUrl(), env.dbUser(), env.dbPassword(), pool);
  }

  private static String api() {
    return "http://127.0.0.1:" + coordinator.port();
  }

  private static Run cli(String stdin, String... args) {
    return new Run(CliClient.create(api(), TOKEN), stdin, args);
  }

  private static List<String> ids(JsonNode listing) {
    return listing.path("items").findValuesAsText("id");
  }

  private static JsonNode node(JsonNode listing, String id) {
    for (JsonNode n : listing.path("items")) {
      if (id.equals(n.path("id").asText())) {
        return n;
      }
    }
    throw new AssertionError(id + " is not listed: " + listing);
  }

  /** One command run: exit code, standard output and standard error. */
  private static final class Run {
    final int exit;
    final String out;
    final String err;

    Run(SluiceClient api, String stdin, String... args) {
      ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
      ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
      List<String> words = List.of(args);
      this.exit =
          new ClientCommands(
                  api,
                  new PrintStream(outBytes, true, StandardCharsets.UTF_8),
                  new PrintStream(errBytes, true, StandardCharsets.UTF_8),
                  new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)))
              .run(words.getFirst(), words.subList(1, words.size()));
      this.out = outBytes.toString(StandardCharsets.UTF_8);
      this.err = errBytes.toString(StandardCharsets.UTF_8);
    }

    /** Standard output as the one JSON document it must be. */
    JsonNode json() {
      assertThat(out.lines()).as("one line of JSON on stdout; %s", this).hasSize(1);
      try {
        return CliClient.JSON.readTree(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }
}
