package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClientCommandsTest {

  @Test
  void listingFollowsNextCursorUntilTheLimitAndContinuesAfterTheLastJobShown() {
    List<String> asked = new ArrayList<>();
    ObjectNode listing =
        ClientCommands.collect(
            (cursor, limit) -> {
              asked.add(cursor + ":" + limit);
              return page(cursor == null ? 0 : Integer.parseInt(cursor), limit, 7);
            },
            null,
            5,
            3);
    assertThat(asked).containsExactly("null:3", "3:2");
    assertThat(ids(listing)).containsExactly("j0", "j1", "j2", "j3", "j4");
    assertThat(listing.path("nextCursor").asText()).isEqualTo("5");
  }

  @Test
  void listingEndsAtTheLastPageWithoutACursor() {
    ObjectNode listing =
        ClientCommands.collect(
            (cursor, limit) -> page(cursor == null ? 0 : Integer.parseInt(cursor), limit, 4),
            "1",
            100,
            2);
    assertThat(ids(listing)).containsExactly("j1", "j2", "j3");
    assertThat(listing.path("nextCursor").isNull()).isTrue();
  }

  @Test
  void jobStatusIsTheApisSpellingInAnyCaseAndAnUnknownOneIsAUsageError() {
    assertThat(ClientCommands.jobStatus(" running ")).isEqualTo("RUNNING");
    assertThat(ClientCommands.jobStatus(null)).isNull();
    assertThatThrownBy(() -> ClientCommands.jobStatus("DONE"))
        .hasMessageContaining("--status DONE is not one of [QUEUED, RUNNING, COLLECTING")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(2));
    assertThatThrownBy(() -> ClientCommands.jobStatus("waiting"))
        .as("only a stage waits; jobs lists jobs")
        .hasMessageContaining("--status waiting is not one of");
  }

  @ParameterizedTest
  @CsvSource({"SUCCEEDED, 0", "FAILED, 1", "CANCELLED, 4"})
  void aFollowedJobsEndDecidesTheExitCode(String status, int exitCode) {
    JobView job = new JobView(CliClient.JSON.createObjectNode().put("status", status));
    assertThat(ClientCommands.exitCode(job)).isEqualTo(exitCode);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "jobs --limit 0          | --limit 0 must be between 1 and 100000",
        "jobs --status nope      | --status nope is not one of",
        "jobs extra              | unexpected [extra]",
        "workers --limit 5000    | --limit 5000 must be between 1 and 1000",
        "status                  | expected one job id, got []",
        "status a b              | expected one job id, got [a, b]",
        "cancel --force x        | unknown option --force",
        "submit --payload -      | --type is required",
        "submit --type noop      | --payload is required",
        "drain                   | expected one worker URL or id",
        "drain http://h:1 --host h | --host goes with a worker id, not a URL",
        "drain http://h:1/x?y=1    | is not a URL of the form http://host:port",
      })
  void badArgumentsExitWithTwoBeforeAnythingIsSent(String line, String message) {
    List<String> words = List.of(line.trim().split("\\s+"));
    Streams s = new Streams("");
    int exit = s.commands().run(words.get(0), words.subList(1, words.size()));
    assertThat(exit).isEqualTo(2);
    assertThat(s.out()).isEmpty();
    assertThat(s.err()).startsWith("sluice " + words.get(0) + ": ").contains(message);
  }

  @Test
  void aPayloadThatIsEmptyOrNotJsonIsAUsageError() {
    Streams empty = new Streams("");
    assertThat(empty.commands().run("submit", List.of("--type", "noop", "--payload", "-")))
        .isEqualTo(2);
    assertThat(empty.err()).contains("payload from standard input is not JSON: it is empty");
    Streams missing = new Streams("");
    assertThat(
            missing
                .commands()
                .run("submit", List.of("--type", "noop", "--payload", "/no/such/file.json")))
        .isEqualTo(2);
    assertThat(missing.err()).contains("payload file /no/such/file.json does not exist");
  }

  @Test
  void helpNamesEveryClientCommandAndTheExitCodes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit =
        Main.run("help", List.of(), new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    assertThat(exit).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("submit --type T", "status ID", "cancel ID", "jobs [--status S]")
        .contains(
            "workers [--limit N]",
            "drain WORKER_URL | drain WORKER_ID",
            "queues [--json] | queues pause QUEUE",
            "--json")
        .contains("1 failure", "2 bad usage", "3 the coordinator", "4 the job was CANCELLED");
  }

  private static JsonNode page(int from, int limit, int total) {
    ObjectNode page = CliClient.JSON.createObjectNode();
    ArrayNode items = page.putArray("items");
    int to = Math.min(total, from + limit);
    for (int i = from; i < to; i++) {
      items.addObject().put("id", "j" + i);
    }
    // Like the API: a full page always carries a cursor, even when nothing follows.
    if (to - from == limit) {
      page.put("nextCursor", String.valueOf(to));
    } else {
      page.putNull("nextCursor");
    }
    return page;
  }

  private static List<String> ids(JsonNode listing) {
    List<String> ids = new ArrayList<>();
    listing.path("items").forEach(i -> ids.add(i.path("id").asText()));
    return ids;
  }

  /** Commands writing to memory; the API URL is never contacted by these tests. */
  private static final class Streams {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final String stdin;

    Streams(String stdin) {
      this.stdin = stdin;
    }

    ClientCommands commands() {
      return new ClientCommands(
          CliClient.create("http://127.0.0.1:9", "t"),
          new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8),
          new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    }

    String out() {
      return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }
  }
}
