package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.client.JobEvent;
import io.sluice.client.JobRequest;
import io.sluice.client.JobSnapshot;
import io.sluice.client.SluiceApiException;
import io.sluice.client.SluiceClient;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** Progress per task and per phase, batched by the worker, and the job's server-sent events. */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProgressEventsIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private Stack stack;
  private JobApi api;

  @BeforeAll
  void start(TestEnvironment env) {
    stack = new Stack(env, 1, 16);
    api = new JobApi(stack);
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  @Test
  void everyTasksLatestReportLandsOnItsOwnRowAndTheJobAggregatesThemByPhase() {
    double writtenBefore = workerCounter("sluice_progress_reports_written_total");
    UUID id =
        api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":12,\"hold\":true,\"reports\":300}}");

    await("every task's last report is stored")
        .atMost(WAIT)
        .until(() -> api.tasks(id).stream().allMatch(ProgressEventsIT::showsItsLastReport));

    for (JsonNode t : api.tasks(id)) {
      int seq = t.get("seq").asInt();
      assertThat(t.get("progress").asDouble()).isCloseTo((seq + 1) / 13.0, within(1e-6));
      assertThat(t.get("phase").asText()).isEqualTo("phase-" + seq % 3);
    }
    JsonNode job = api.job(id);
    assertThat(job.get("progress").asDouble()).isCloseTo(0.5, within(1e-3));
    assertThat(job.get("running").asInt()).isEqualTo(12);
    JsonNode phases = job.get("phases");
    assertThat(phases.get("phase-0").get("running").asInt()).isEqualTo(4);
    assertThat(phases.get("phase-0").get("progress").asDouble()).isCloseTo(5.5 / 13, within(1e-3));
    assertThat(phases.get("phase-1").get("progress").asDouble()).isCloseTo(6.5 / 13, within(1e-3));
    assertThat(phases.get("phase-2").get("progress").asDouble()).isCloseTo(7.5 / 13, within(1e-3));
    assertThat(workerCounter("sluice_progress_reports_written_total") - writtenBefore)
        .as("3600 reports are written in a few batched row updates")
        .isLessThan(360);

    ProbeJobType.release(id);
    JsonNode done = stack.awaitTerminal(id.toString(), WAIT);
    assertThat(done.get("progress").asDouble()).isEqualTo(1.0);
    assertThat(done.get("phases").size()).isZero();
  }

  @Test
  void aWatcherGetsStateAndProgressEventsInOrderUntilTheJobEnds() {
    UUID id =
        api.create("{\"type\":\"probe\",\"payload\":{\"tasks\":48,\"holdMs\":400,\"reports\":5}}");
    HttpResponse<Stream<String>> stream = api.events(id);
    assertThat(stream.statusCode()).isEqualTo(200);
    assertThat(stream.headers().firstValue("Content-Type").orElse(""))
        .startsWith("text/event-stream");
    List<String[]> events = new CopyOnWriteArrayList<>();

    CompletableFuture.runAsync(() -> collect(stream.body(), events))
        .orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS)
        .join();

    assertThat(events.get(0)[0]).isEqualTo("state");
    assertThat(events.get(events.size() - 1)[0]).isEqualTo("end");
    List<String> states =
        events.stream().filter(e -> e[0].equals("state")).map(e -> status(e[1])).toList();
    assertThat(states).last().isEqualTo("SUCCEEDED");
    assertThat(states)
        .isSubsetOf("QUEUED", "RUNNING", "COLLECTING", "SUCCEEDED")
        .doesNotHaveDuplicates();
    assertThat(events)
        .as("48 tasks in three waves of 16 show progress while the job runs")
        .anyMatch(e -> e[0].equals("progress") && status(e[1]).equals("RUNNING"));
    List<Double> progress =
        events.stream().map(e -> Json.read(e[1]).get("progress").asDouble()).toList();
    assertThat(progress).as("progress never goes backwards").isSorted();
    assertThat(events)
        .as("every event carries the running tasks per phase")
        .allMatch(e -> Json.read(e[1]).get("phases").isObject())
        .anyMatch(e -> Json.read(e[1]).get("phases").has("phase-0"));
    assertThat(progress.get(progress.size() - 1)).isEqualTo(1.0);

    HttpResponse<String> unknown = stack.get("/api/v1/jobs/" + UUID.randomUUID() + "/events");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(Json.read(unknown.body()).get("error").asText()).contains("no job");
  }

  @Test
  void theJavaClientWatchesAJobToItsEndOverTheRealStream() {
    SluiceClient client = SluiceClient.create(URI.create(stack.api()), Stack.TOKEN, null);
    JobSnapshot job =
        client.submit(
            JobRequest.of(
                    "probe", Json.object().put("tasks", 32).put("holdMs", 300).put("reports", 3))
                .label("watch", "yes"));
    List<JobEvent> events = new CopyOnWriteArrayList<>();

    JobSnapshot done = client.watch(job.id(), WAIT, events::add);

    assertThat(done.status()).isEqualTo("SUCCEEDED");
    assertThat(done.json().path("tasksSucceeded").asInt()).isEqualTo(32);
    assertThat(done.labels()).containsEntry("watch", "yes");
    assertThat(events.get(0).kind()).isEqualTo("state");
    assertThat(events.get(events.size() - 1).kind()).isEqualTo("end");
    assertThat(events).extracting(JobEvent::id).isSorted().doesNotHaveDuplicates();
    assertThat(events).anyMatch(e -> e.kind().equals("progress"));
    assertThatThrownBy(() -> client.watch(UUID.randomUUID(), WAIT, e -> {}))
        .isInstanceOfSatisfying(
            SluiceApiException.class, e -> assertThat(e.status()).isEqualTo(404));
  }

  private static boolean showsItsLastReport(JsonNode task) {
    return ("task " + task.get("seq").asInt() + " report 300")
        .equals(task.path("message").asText());
  }

  /** Reads {@code event:}/{@code data:} frames until the {@code end} event. */
  private static void collect(Stream<String> lines, List<String[]> events) {
    String[] current = new String[2];
    for (var it = lines.iterator(); it.hasNext(); ) {
      String line = it.next();
      if (line.startsWith("event: ")) {
        current[0] = line.substring(7);
      } else if (line.startsWith("data: ")) {
        current[1] = line.substring(6);
      } else if (line.isEmpty() && current[0] != null) {
        events.add(current);
        if (current[0].equals("end")) {
          return;
        }
        current = new String[2];
      }
    }
  }

  private static String status(String data) {
    return Json.read(data).get("status").asText();
  }

  private double workerCounter(String name) {
    String metrics =
        JobApi.get("http://127.0.0.1:" + stack.workers.get(0).port() + "/metrics").body();
    Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
