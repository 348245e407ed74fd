package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ApiTokens;
import io.sluice.coordinator.ApiLimits;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code POST /api/v1/jobs/batch} (all or nothing, answered in request order) and the group commit
 * of concurrent single submissions (many jobs per transaction, each answered after its commit, the
 * idempotency key and the tenant quota holding across the jobs of one group).
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchSubmitIT {
  private static final String QUOTA_TOKEN = "quota-tenant-token-77";
  private static final int QUOTA = 3;

  private Stack stack;
  private TestEnvironment env;

  @BeforeAll
  void start(TestEnvironment env) {
    this.env = env;
    stack =
        new Stack(
            env,
            2,
            50,
            c ->
                c.withTokens(
                        ApiTokens.parse("tenant-a:" + Stack.TOKEN + ",tenant-q:" + QUOTA_TOKEN))
                    .withLimits(new ApiLimits(100_000, 100_000, 0, Map.of("tenant-q", QUOTA))));
  }

  @AfterAll
  void stop() {
    stack.close();
  }

  private static ObjectNode noop(int tasks, String label) {
    ObjectNode job = Json.object().put("type", "noop");
    job.putObject("payload").put("tasks", tasks);
    job.putObject("labels").put("n", label);
    return job;
  }

  private HttpResponse<String> batch(String token, List<? extends JsonNode> jobs) {
    ObjectNode body = Json.object();
    ArrayNode list = body.putArray("jobs");
    jobs.forEach(list::add);
    return stack.post("/api/v1/jobs/batch", "application/json", token, Json.write(body));
  }

  @Test
  void aThousandJobsInOneBatchAreAnsweredInRequestOrderAndAllSucceed() {
    List<ObjectNode> jobs = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      jobs.add(noop(1 + i % 3, "job-" + i));
    }
    HttpResponse<String> answer = batch(Stack.TOKEN, jobs);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    JsonNode items = Json.read(answer.body()).path("items");
    assertThat(items).hasSize(1000);
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      JsonNode item = items.get(i);
      assertThat(item.path("labels").path("n").asText()).isEqualTo("job-" + i);
      assertThat(item.path("taskCount").asInt()).isEqualTo(1 + i % 3);
      ids.add(item.path("id").asText());
    }
    assertThat(ids).hasSize(1000);
    Awaitility.await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> countJobs("WHERE id::text = ANY(?) AND status = 'SUCCEEDED'", ids) == 1000);
  }

  @Test
  void anInvalidItemListsEveryMistakeByIndexAndStoresNothing() throws Exception {
    List<JsonNode> jobs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      jobs.add(noop(1, "invalid-batch"));
    }
    jobs.set(3, Json.object().put("type", "no-such-type").set("payload", Json.object()));
    ObjectNode badPayload = Json.object().put("type", "noop");
    badPayload.putObject("payload").put("tasks", -1);
    jobs.set(7, badPayload);
    jobs.set(8, Json.read("{\"type\":\"noop\",\"payload\":{\"tasks\":1},\"colour\":\"red\"}"));
    long before = countAll();
    HttpResponse<String> answer = batch(Stack.TOKEN, jobs);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
    JsonNode body = Json.read(answer.body());
    assertThat(body.path("error").asText()).contains("3 of the batch's 10 jobs are invalid");
    JsonNode errors = body.path("errors");
    assertThat(errors).hasSize(3);
    assertThat(errors.get(0).path("index").asInt()).isEqualTo(3);
    assertThat(errors.get(0).path("field").asText()).isEqualTo("type");
    assertThat(errors.get(0).path("error").asText()).contains("no-such-type");
    assertThat(errors.get(1).path("index").asInt()).isEqualTo(7);
    assertThat(errors.get(1).path("field").asText()).startsWith("payload.tasks");
    assertThat(errors.get(2).path("index").asInt()).isEqualTo(8);
    assertThat(errors.get(2).path("field").asText()).isEqualTo("colour");
    assertThat(countAll()).as("nothing was stored").isEqualTo(before);
  }

  @Test
  void theBatchItselfIsCheckedBeforeAnyItem() throws Exception {
    long before = countAll();
    assertThat(batch(Stack.TOKEN, List.of()).statusCode()).isEqualTo(400);
    List<ObjectNode> tooMany = new ArrayList<>();
    for (int i = 0; i < 1001; i++) {
      tooMany.add(noop(1, "too-many"));
    }
    HttpResponse<String> answer = batch(Stack.TOKEN, tooMany);
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(Json.read(answer.body()).path("limit").asInt()).isEqualTo(1000);
    HttpResponse<String> unknown =
        stack.post("/api/v1/jobs/batch", "application/json", Stack.TOKEN, "{\"job\":[]}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("unknown field 'job'");
    assertThat(stack.post("/api/v1/jobs/batch", "application/json", null, "{}").statusCode())
        .isEqualTo(401);
    assertThat(countAll()).isEqualTo(before);
  }

  @Test
  void anItemWhoseKeyNamesAJobAnswersThatJobAndOneWithAnotherRequestRefusesTheBatch()
      throws Exception {
    ObjectNode keyed = noop(2, "keyed").put("idempotencyKey", "batch-key-1");
    HttpResponse<String> first = stack.submit(Json.write(keyed));
    assertThat(first.statusCode()).isEqualTo(201);
    String existing = Json.read(first.body()).path("id").asText();

    ObjectNode repeatedInBatch = noop(1, "in-batch").put("idempotencyKey", "batch-key-2");
    HttpResponse<String> answer =
        batch(Stack.TOKEN, List.of(noop(1, "fresh"), keyed, repeatedInBatch, repeatedInBatch));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    JsonNode items = Json.read(answer.body()).path("items");
    assertThat(items.get(1).path("id").asText()).isEqualTo(existing);
    assertThat(items.get(3).path("id").asText())
        .as("the same key twice in one batch is one job")
        .isEqualTo(items.get(2).path("id").asText());

    long before = countAll();
    ObjectNode changed = noop(5, "changed").put("idempotencyKey", "batch-key-1");
    HttpResponse<String> conflict = batch(Stack.TOKEN, List.of(noop(1, "lost"), changed));
    assertThat(conflict.statusCode()).as(conflict.body()).isEqualTo(409);
    assertThat(Json.read(conflict.body()).path("index").asInt()).isEqualTo(1);
    assertThat(Json.read(conflict.body()).path("jobId").asText()).isEqualTo(existing);
    assertThat(countAll()).as("the valid item was not stored either").isEqualTo(before);
  }

  @Test
  void aBatchTheTenantsQuotaCannotHoldIsRefusedWhole() throws Exception {
    long before = countAll();
    List<ObjectNode> jobs = new ArrayList<>();
    for (int i = 0; i <= QUOTA; i++) {
      jobs.add(noop(1, "quota"));
    }
    HttpResponse<String> answer = batch(QUOTA_TOKEN, jobs);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(429);
    assertThat(answer.headers().firstValue("Retry-After")).isPresent();
    assertThat(countAll()).isEqualTo(before);
  }

  @Test
  void aPipelineRidesInABatchBesideOneStageJobs() {
    ObjectNode pipeline = Json.object();
    ArrayNode stages = pipeline.putArray("stages");
    ObjectNode a = stages.addObject().put("name", "a").put("type", "noop");
    a.putObject("payload").put("tasks", 3);
    ObjectNode b = stages.addObject().put("name", "b").put("type", "noop");
    b.putObject("payload").put("tasks", 2);
    b.putArray("dependsOn").add("a");
    HttpResponse<String> answer = batch(Stack.TOKEN, List.of(noop(1, "x"), pipeline));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
    JsonNode items = Json.read(answer.body()).path("items");
    assertThat(items.get(1).path("stages")).hasSize(2);
    for (JsonNode item : items) {
      JsonNode done = stack.awaitTerminal(item.path("id").asText(), Duration.ofSeconds(60));
      assertThat(done.path("status").asText()).isEqualTo("SUCCEEDED");
    }
  }

  /**
   * The race of concurrent submissions sharing keys, run as one burst many times: every answer for
   * a key names one job, each job holds its tasks, and the submissions really shared transactions.
   */
  @Test
  void concurrentSubmissionsShareTransactionsAndEachKeyIsOneJob() throws Exception {
    double groupsBefore = metric("sluice_submit_group_size_count");
    double jobsBefore = metric("sluice_submit_group_size_sum");
    int rounds = 10;
    int perRound = 100;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int round = 0; round < rounds; round++) {
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < perRound; i++) {
          String key = "race-" + round + "-" + (i % 10);
          keys.add(key);
          String body = Json.write(noop(2, key).put("idempotencyKey", key));
          answers.add(pool.submit(() -> stack.submit(body)));
        }
        Map<String, String> jobOfKey = new HashMap<>();
        for (int i = 0; i < perRound; i++) {
          HttpResponse<String> answer = answers.get(i).get();
          assertThat(answer.statusCode()).as(answer.body()).isIn(200, 201);
          String id = Json.read(answer.body()).path("id").asText();
          String was = jobOfKey.putIfAbsent(keys.get(i), id);
          assertThat(was == null || was.equals(id))
              .as("round %d key %s answered two jobs", round, keys.get(i))
              .isTrue();
        }
        assertThat(jobOfKey).hasSize(10);
        assertThat(countJobs("WHERE id::text = ANY(?) AND task_count = 2", jobOfKey.values()))
            .isEqualTo(10);
        assertThat(countTasks(jobOfKey.values())).isEqualTo(20);
      }
    }
    double groups = metric("sluice_submit_group_size_count") - groupsBefore;
    double jobs = metric("sluice_submit_group_size_sum") - jobsBefore;
    assertThat(jobs).isEqualTo(rounds * perRound);
    assertThat(groups).as("%s submissions in %s transactions", jobs, groups).isLessThan(jobs);
  }

  /** Concurrent submissions of a tenant at its quota: exactly the quota's worth is accepted. */
  @Test
  void concurrentSubmissionsOfOneGroupNeverPassTheQuota() throws Exception {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> countJobs("WHERE tenant = 'tenant-q' AND finished_at IS NULL", List.of()) == 0);
    List<Future<HttpResponse<String>>> answers = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 20; i++) {
        // Jobs that stay active: a delayed start an hour ahead.
        String body =
            Json.write(
                noop(1, "held-" + i).put("runAt", Instant.now().plusSeconds(3600).toString()));
        answers.add(
            pool.submit(() -> stack.post("/api/v1/jobs", "application/json", QUOTA_TOKEN, body)));
      }
      int created = 0;
      int refused = 0;
      for (Future<HttpResponse<String>> f : answers) {
        int status = f.get().statusCode();
        if (status == 201) {
          created++;
        } else if (status == 429) {
          refused++;
        }
      }
      assertThat(created).isEqualTo(QUOTA);
      assertThat(refused).isEqualTo(20 - QUOTA);
    }
    assertThat(countJobs("WHERE tenant = 'tenant-q' AND finished_at IS NULL", List.of()))
        .isEqualTo(QUOTA);
    // Free the quota for the other tests of this class.
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE jobs SET status = 'CANCELLED', finished_at = now() WHERE tenant = 'tenant-q'"
              + " AND finished_at IS NULL");
    }
  }

  private double metric(String name) {
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
            .matcher(stack.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(env.jdbcUrl(), env.dbUser(), env.dbPassword());
  }

  private long countAll() throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM jobs")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long countJobs(String where, Collection<String> ids) throws SQLException {
    try (Connection c = connect();
        var ps = c.prepareStatement("SELECT count(*) FROM jobs " + where)) {
      if (where.contains("?")) {
        ps.setArray(1, c.createArrayOf("text", ids.toArray()));
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private long countTasks(Collection<String> jobIds) throws SQLException {
    try (Connection c = connect();
        var ps = c.prepareStatement("SELECT count(*) FROM tasks WHERE job_id::text = ANY(?)")) {
      ps.setArray(1, c.createArrayOf("text", jobIds.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
