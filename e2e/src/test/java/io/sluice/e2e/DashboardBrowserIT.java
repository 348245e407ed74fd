package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.coordinator.WebhookConfig;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;

/**
 * The dashboard in headless Chromium against a real coordinator and worker: without a token the
 * page shows no job data and asks for one; entered in the page or handed over in the URL fragment,
 * an admin token shows every tenant's jobs; a running job's progress rises on the page, a
 * dead-lettered task is requeued by clicking, runs again and its job succeeds, and a screenshot is
 * saved to {@code target/dashboard.png}; a pipeline's detail draws its stages as an SVG graph.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserIT {
  private static final Duration PAGE_WAIT = Duration.ofSeconds(20);

  private HeadlessChromium chromium;
  private static final String HOOK_SECRET = "dashboard-hook-secret-0123";
  private WebDriver page;
  private Stack stack;

  @BeforeAll
  void start(TestEnvironment env) {
    chromium = HeadlessChromium.start();
    page = chromium.driver;
    // Callbacks of tenant-a may go to loopback and give up 2 s after the job ended.
    WebhookConfig hooks =
        WebhookConfig.of("tenant-a:" + HOOK_SECRET, "127.0.0.1/32", Duration.ofMillis(100));
    WebhookConfig quick =
        new WebhookConfig(
            hooks.secrets(),
            hooks.targets(),
            Duration.ofSeconds(1),
            Duration.ofMillis(100),
            Duration.ofMillis(200),
            Duration.ofSeconds(2));
    stack = new Stack(env, 1, 2, c -> c.withWebhooks(quick));
  }

  @AfterAll
  void stop() {
    FixableJobType.BROKEN.set(true);
    try {
      if (chromium != null) {
        chromium.close();
      }
    } finally {
      if (stack != null) {
        stack.close();
      }
    }
  }

  @Test
  @Order(0)
  void withoutATokenThePageShowsNoJobsAndAsksForOneThatTheFragmentCanHandOver() {
    String id = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":1}}");
    stack.awaitTerminal(id, PAGE_WAIT);
    page.get(stack.api() + "/");
    await("the page asks for a token")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                "auth".equals(find("conn").getAttribute("data-state"))
                    && find("notice").getText().contains("token"));
    assertThat(page.findElements(By.cssSelector("tr[data-job-id]"))).isEmpty();

    page.get(stack.api() + "/?from=link#token=" + Stack.ADMIN_TOKEN);
    await("the fragment's admin token shows the jobs")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                "live".equals(find("conn").getAttribute("data-state"))
                    && !page.findElements(By.cssSelector("tr[data-job-id='" + id + "']"))
                        .isEmpty());
    assertThat(page.getCurrentUrl()).as("the token leaves the address bar").doesNotContain("token");
  }

  @Test
  @Order(1)
  void aRunningJobsProgressRisesOnThePageUntilItSucceeds() {
    String id = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":30,\"taskDelayMs\":300}}");
    By progress = By.cssSelector("tr[data-job-id='" + id + "'] .progress-text");
    List<Integer> seen = new ArrayList<>();

    int first =
        await("the job's progress shows between 0 and 100 %")
            .atMost(PAGE_WAIT)
            .ignoreExceptions()
            .until(() -> record(seen, percent(progress)), p -> p > 0 && p < 100);
    int later =
        await("the displayed progress rises")
            .atMost(PAGE_WAIT)
            .ignoreExceptions()
            .until(() -> record(seen, percent(progress)), p -> p > first);
    await("the page shows the job SUCCEEDED at 100 %")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> "SUCCEEDED".equals(jobRowStatus(id)) && percent(progress) == 100);

    assertThat(later).isGreaterThan(first);
    assertThat(seen).as("progress values the page showed, in order").isSorted();
    assertThat(stack.job(id).get("tasksSucceeded").asInt()).isEqualTo(30);
  }

  @Test
  @Order(2)
  void aDeadLetteredTaskIsRequeuedFromThePageRunsAgainAndItsJobSucceeds() throws Exception {
    FixableJobType.BROKEN.set(true);
    String id =
        submit("{\"type\":\"fixable\",\"maxAttempts\":2,\"payload\":{\"tasks\":4,\"failSeq\":2}}");
    String other =
        submit("{\"type\":\"fixable\",\"maxAttempts\":2,\"payload\":{\"tasks\":3,\"failSeq\":0}}");
    assertThat(stack.awaitTerminal(id, PAGE_WAIT).get("status").asText()).isEqualTo("FAILED");
    assertThat(stack.awaitTerminal(other, PAGE_WAIT).get("status").asText()).isEqualTo("FAILED");
    FixableJobType.BROKEN.set(false); // the bug is fixed; the failed task can run again

    By requeue = By.cssSelector("tr[data-dead-job='" + id + "'][data-seq='2'] button.requeue");
    find("token-forget").click();
    page.navigate().refresh();
    await("without its token the page lists no dead letter and asks for the token")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                "auth".equals(find("conn").getAttribute("data-state"))
                    && find("notice").isDisplayed()
                    && find("notice").getText().contains("token")
                    && page.findElements(requeue).isEmpty());
    assertThat(task(id, 2).get("status").asText()).isEqualTo("FAILED");

    find("token").sendKeys(Stack.ADMIN_TOKEN);
    find("token-save").click();
    await().atMost(PAGE_WAIT).ignoreExceptions().until(() -> page.findElement(requeue).isEnabled());
    page.findElement(requeue).click();
    await("the click reaches the coordinator")
        .atMost(PAGE_WAIT)
        .until(() -> !task(id, 2).get("status").asText().equals("FAILED"));

    JsonNode job = stack.awaitTerminal(id, PAGE_WAIT);
    assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    assertThat(job.get("tasksSucceeded").asInt()).isEqualTo(4);
    assertThat(job.get("tasksFailed").asInt()).isZero();
    assertThat(job.get("result").get("succeeded").asInt()).isEqualTo(4);
    JsonNode task = task(id, 2);
    assertThat(task.get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(task.get("attempt").asInt()).as("a fresh attempt budget").isEqualTo(1);
    assertThat(events(id)).contains("REQUEUE:null->null", "STATUS:FAILED->QUEUED");
    await("the page shows the job SUCCEEDED and its dead letter gone")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                "SUCCEEDED".equals(jobRowStatus(id))
                    && page.findElements(By.cssSelector("tr[data-dead-job='" + id + "']"))
                        .isEmpty());
    assertThat(stack.job(other).get("status").asText())
        .as("the other failed job is untouched")
        .isEqualTo("FAILED");

    screenshotWithAJobRunning();
  }

  @Test
  @Order(3)
  void aPipelinesDetailDrawsOneBoxPerStageAndAnArrowFromEachDependencyToItsDependent()
      throws Exception {
    String id =
        submit(
            "{\"stages\":["
                + "{\"name\":\"a\",\"type\":\"noop\",\"payload\":{\"tasks\":4,\"taskDelayMs\":200}},"
                + "{\"name\":\"b\",\"type\":\"noop\",\"payload\":{\"tasks\":4,\"taskDelayMs\":200}},"
                + "{\"name\":\"c\",\"type\":\"noop\",\"payload\":{\"tasks\":2},"
                + "\"dependsOn\":[\"a\",\"b\"]}],"
                + "\"concurrencyKey\":\"dash-customer\",\"concurrencyLimit\":8}");
    By row = By.cssSelector("tr[data-job-id='" + id + "']");
    await("the pipeline's detail opens")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              page.findElement(row).click();
              return find("tasks-job").getText().contains(id);
            });

    List<Map<String, String>> seen = new ArrayList<>();
    await("the graph shows every stage SUCCEEDED")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () -> recordStatuses(seen),
            drawn -> drawn.size() == 3 && drawn.values().stream().allMatch("SUCCEEDED"::equals));

    assertThat(stack.job(id).get("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(find("job-detail").getText())
        .as("the detail names the pipeline's concurrency key")
        .contains("concurrency key", "dash-customer (limit 8)");
    assertThat(seen)
        .as("c is drawn started only once a and b are drawn SUCCEEDED")
        .allSatisfy(
            drawn -> {
              if (!"WAITING".equals(drawn.get("c"))) {
                assertThat(drawn).containsEntry("a", "SUCCEEDED").containsEntry("b", "SUCCEEDED");
              }
            });
    assertThat(graph("g.stage").stream().map(g -> g.getAttribute("data-stage")))
        .containsExactly("a", "b", "c");
    assertThat(
            graph("path.dep").stream()
                .map(d -> d.getAttribute("data-from") + "->" + d.getAttribute("data-to")))
        .containsExactlyInAnyOrder("a->c", "b->c");
    assertThat(graph("path.dep"))
        .allSatisfy(d -> assertThat(d.getAttribute("marker-end")).isEqualTo("url(#stage-arrow)"));
    assertThat(stageText("a")).contains("a", "SUCCEEDED", "4/4");
    assertThat(stageText("c")).contains("c", "SUCCEEDED", "2/2");
    WebElement a = stageBox("a");
    WebElement c = stageBox("c");
    assertThat(c.getLocation().getX())
        .as("c is drawn in the column right of its dependencies")
        .isGreaterThan(a.getLocation().getX() + a.getSize().getWidth());

    Path png = Path.of(System.getProperty("basedir", "."), "target", "dashboard-pipeline.png");
    Files.createDirectories(png.getParent());
    Files.write(png, ((TakesScreenshot) page).getScreenshotAs(OutputType.BYTES));

    String single = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":1}}");
    stack.awaitTerminal(single, PAGE_WAIT);
    await("a one-stage job's detail draws no graph, and the pipeline's is gone")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              page.findElement(By.cssSelector("tr[data-job-id='" + single + "']")).click();
              return find("tasks-job").getText().contains(single)
                  && !find("job-graph").isDisplayed()
                  && graph("g.stage").isEmpty();
            });
  }

  /** The status each stage box shows, by stage name; added to {@code seen} when it changed. */
  private Map<String, String> recordStatuses(List<Map<String, String>> seen) {
    Map<String, String> drawn = new LinkedHashMap<>();
    for (WebElement g : graph("g.stage")) {
      drawn.put(g.getAttribute("data-stage"), g.getAttribute("data-status"));
    }
    if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(drawn)) {
      seen.add(drawn);
    }
    return drawn;
  }

  private List<WebElement> graph(String selector) {
    return page.findElements(By.cssSelector("#job-graph svg " + selector));
  }

  private WebElement stageBox(String name) {
    return page.findElement(
        By.cssSelector("#job-graph svg g.stage[data-stage='" + name + "'] rect.stage-box"));
  }

  private String stageText(String name) {
    return String.join(
        " ",
        page
            .findElements(By.cssSelector("#job-graph svg g.stage[data-stage='" + name + "'] text"))
            .stream()
            .map(WebElement::getText)
            .toList());
  }

  @Test
  @Order(4)
  void aSchedulesFiresAreCountedOnThePageAndItsPauseShows() {
    var created =
        stack.post(
            "/api/v1/schedules",
            "application/json",
            Stack.TOKEN,
            """
            {"name":"dash-every","every":"1s","overlap":"allow",
             "job":{"type":"noop","payload":{"tasks":1}}}
            """);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    page.get(stack.api() + "/#token=" + Stack.ADMIN_TOKEN);
    By fires = By.cssSelector("tr[data-schedule='tenant-a/dash-every'] td.num");

    await("the page counts the schedule's fires")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> Integer.parseInt(page.findElements(fires).get(0).getText()) >= 2);
    new ScheduleCalls(stack::api).pause(Stack.TOKEN, "dash-every");

    await("the page shows it paused")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                page.findElement(By.cssSelector("tr[data-schedule='tenant-a/dash-every']"))
                    .getText()
                    .contains("PAUSED"));
  }

  @Test
  @Order(5)
  void aPausedQueueIsShownPausedInTheQueueListUntilItIsResumed() {
    By state = By.cssSelector("#queues tr[data-queue='dash-held'] td.state");
    assertThat(
            stack.post("/api/v1/queues/dash-held/pause", null, Stack.ADMIN_TOKEN, "").statusCode())
        .isEqualTo(200);
    await("the queue list shows the queue paused, and by whom")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                page.findElement(state).getText().equals("paused")
                    && page.findElement(state).getAttribute("title").contains("by ops"));

    stack.post("/api/v1/queues/dash-held/resume", null, Stack.ADMIN_TOKEN, "");
    await("and running again once resumed")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> page.findElement(state).getText().equals("running"));
  }

  @Test
  @Order(6)
  void thePauseButtonPausesTheQueueAndResumeLetsItRunAgain() {
    page.get(stack.api() + "/#token=" + Stack.ADMIN_TOKEN);
    By button = By.cssSelector("#queues tr[data-queue='dash-held'] button.queue-toggle");
    await("the queue's row offers Pause")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> page.findElement(button).getText().equals("Pause"));
    page.findElement(button).click();
    await("the queue is paused in the API, and the button offers Resume")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                queue("dash-held").path("paused").asBoolean()
                    && page.findElement(button).getText().equals("Resume"));
    page.findElement(button).click();
    await("resumed")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(
            () ->
                !queue("dash-held").path("paused").asBoolean()
                    && page.findElement(button).getText().equals("Pause"));
  }

  @Test
  @Order(7)
  void aCallbackThatGaveUpIsListedWithItsAttemptsAndLastError() {
    String id =
        submit(
            "{\"type\":\"noop\",\"payload\":{\"tasks\":1},"
                + "\"callback\":{\"url\":\"http://127.0.0.1:9/hook\"}}");
    page.get(stack.api() + "/#token=" + Stack.ADMIN_TOKEN);
    By row = By.cssSelector("#webhooks tr[data-webhook-job='" + id + "']");
    await("the page lists the delivery that gave up")
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> page.findElement(row).getText().contains("FAILED"));
    List<String> cells =
        page.findElement(row).findElements(By.tagName("td")).stream()
            .map(WebElement::getText)
            .toList();
    assertThat(cells.get(1)).isEqualTo("job.succeeded");
    assertThat(cells.get(2)).isEqualTo("http://127.0.0.1:9/hook");
    assertThat(Integer.parseInt(cells.get(4))).as("attempts").isGreaterThan(1);
    assertThat(cells.get(5)).as("last answer").isNotBlank().isNotEqualTo("–");
  }

  private JsonNode queue(String name) {
    for (JsonNode q :
        Json.read(stack.get("/api/v1/queues", Stack.ADMIN_TOKEN).body()).get("items")) {
      if (q.path("name").asText().equals(name)) {
        return q;
      }
    }
    return Json.object();
  }

  /** Leaves a job running (and the other dead letter listed) so the picture shows every panel. */
  private void screenshotWithAJobRunning() throws Exception {
    String id = submit("{\"type\":\"noop\",\"payload\":{\"tasks\":40,\"taskDelayMs\":150}}");
    By progress = By.cssSelector("tr[data-job-id='" + id + "'] .progress-text");
    await().atMost(PAGE_WAIT).ignoreExceptions().until(() -> percent(progress) >= 20);
    page.findElement(By.cssSelector("tr[data-job-id='" + id + "']")).click();
    await()
        .atMost(PAGE_WAIT)
        .ignoreExceptions()
        .until(() -> find("tasks-job").getText().contains(id));
    Path png = Path.of(System.getProperty("basedir", "."), "target", "dashboard.png");
    Files.createDirectories(png.getParent());
    Files.write(png, ((TakesScreenshot) page).getScreenshotAs(OutputType.BYTES));
    assertThat(Files.size(png)).isGreaterThan(10_000);
  }

  private String submit(String body) {
    var created = stack.submit(body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return Json.read(created.body()).get("id").asText();
  }

  private WebElement find(String id) {
    return page.findElement(By.id(id));
  }

  private String jobRowStatus(String id) {
    return page.findElement(By.cssSelector("tr[data-job-id='" + id + "'] .status")).getText();
  }

  private int percent(By progress) {
    String text = page.findElement(progress).getText().trim();
    if (!text.endsWith("%")) {
      throw new WebDriverException("progress text is not a percentage: " + text);
    }
    return Integer.parseInt(text.substring(0, text.length() - 1));
  }

  private static int record(List<Integer> seen, int value) {
    if (seen.isEmpty() || seen.get(seen.size() - 1) != value) {
      seen.add(value);
    }
    return value;
  }

  private JsonNode task(String jobId, int seq) {
    for (JsonNode t :
        Json.read(stack.get("/api/v1/jobs/" + jobId + "/tasks").body()).get("items")) {
      if (t.get("seq").asInt() == seq) {
        return t;
      }
    }
    throw new AssertionError("job " + jobId + " has no task " + seq);
  }

  /** The job's events as {@code KIND:from->to}, oldest first. */
  private List<String> events(String jobId) throws Exception {
    List<String> events = new ArrayList<>();
    try (Connection c = stack.env.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT kind, from_status, to_status FROM job_events WHERE job_id = ? ORDER BY id")) {
      ps.setObject(1, UUID.fromString(jobId));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          events.add(rs.getString(1) + ":" + rs.getString(2) + "->" + rs.getString(3));
        }
      }
    }
    return events;
  }
}
