package io.sluice.e2e.fault;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.client.JobEvent;
import io.sluice.client.JobSnapshot;
import io.sluice.client.RetryOnConflict;
import io.sluice.client.SluiceClient;
import io.sluice.e2e.Corpus;
import io.sluice.embedded.ChildJvm;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Four coordinator JVMs serve the API at once behind one address (a round-robin TCP proxy, no
 * sticky sessions), two worker JVMs run the tasks. SIGKILL one coordinator during a stream of
 * submissions: every submission answered 201 or 200 is a job that finishes with every word counted
 * once. SIGKILL the coordinator serving a job's event stream: the Java client's watch reconnects
 * through the same address to another one and follows the job to its end. SIGKILL the leader while
 * its webhook relay waits on a delivery: the next leader sends it again.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ManyCoordinatorsIT {
  private static final String TOKEN = "many-coordinators-token-1";
  private static final String WEBHOOK_SECRET = "many-coordinators-webhook-secret";
  // One is killed by each test.
  private static final int COORDINATORS = 4;

  private final List<ChildJvm> coordinators = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final List<ChildJvm> workers = new ArrayList<>();
  private final ChildApi calls = new ChildApi(TOKEN);
  private final List<String[]> hooks = new CopyOnWriteArrayList<>(); // id, attempt, body
  private final CountDownLatch holdFirst = new CountDownLatch(1);
  private TestEnvironment env;
  private RoundRobinProxy proxy;
  private HttpServer receiver;
  private int downPort;
  private String downJob;
  private long downSince;

  @BeforeAll
  void start(TestEnvironment env) throws Exception {
    this.env = env;
    Path logs = Files.createTempDirectory("sluice-many-coordinators");
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
    receiver.createContext("/hook", this::receive);
    receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor()); // one request is held
    receiver.start();
    for (int i = 0; i < COORDINATORS; i++) {
      String node = "coordinator-" + (char) ('a' + i) + "-" + System.nanoTime();
      int port = FaultHarness.freePort();
      Map<String, String> vars = env.sluiceEnv();
      vars.put("SLUICE_API_TOKENS", TOKEN);
      vars.put("SLUICE_API_RATE_LIMIT", "0");
      vars.put("SLUICE_HTTP_PORT", String.valueOf(port));
      vars.put("SLUICE_NODE_ID", node);
      vars.put("SLUICE_LEADER_LEASE", "2s");
      vars.put("SLUICE_SWEEP_INTERVAL", "250ms");
      vars.put("SLUICE_DISPATCH_GRACE", "2s");
      vars.put("SLUICE_COLLECTING_GRACE", "3s");
      vars.put("SLUICE_WEBHOOK_SECRETS", "default:" + WEBHOOK_SECRET);
      vars.put("SLUICE_WEBHOOK_ALLOW", "127.0.0.1/32");
      vars.put("SLUICE_WEBHOOK_TIMEOUT", "30s");
      vars.put("SLUICE_WEBHOOK_RETRY_BASE", "200ms");
      vars.put("SLUICE_WEBHOOK_RETRY_MAX", "5s");
      coordinators.add(ChildApi.start("io.sluice.coordinator.CoordinatorMain", node, vars, logs));
      ports.add(port);
    }
    for (int i = 0; i < 2; i++) {
      String id = "worker-" + i + "-" + System.nanoTime();
      Map<String, String> vars = env.sluiceEnv();
      vars.put("SLUICE_WORKER_ID", id);
      vars.put("SLUICE_HTTP_PORT", String.valueOf(FaultHarness.freePort()));
      vars.put("SLUICE_WORKER_CONCURRENCY", "8");
      vars.put("SLUICE_LEASE_DURATION", "3s");
      vars.put("SLUICE_RETRY_BASE", "100ms");
      workers.add(ChildApi.start("io.sluice.worker.WorkerMain", id, vars, logs));
    }
    for (int port : ports) {
      Awaitility.await("coordinator on " + port + " ready")
          .atMost(Duration.ofSeconds(90))
          .ignoreExceptions()
          .until(() -> calls.get("http://127.0.0.1:" + port + "/health/ready").statusCode() == 200);
    }
    proxy = new RoundRobinProxy(ports);
    // A job whose receiver is down (nothing listens on its port) for the first minute of the run;
    // the last test brings it up and the callback must still arrive.
    downPort = FaultHarness.freePort();
    ObjectNode body = (ObjectNode) Json.read(FaultHarness.wordcountBody("down for a minute", 1, 0));
    body.putObject("callback").put("url", "http://127.0.0.1:" + downPort + "/hook");
    downJob = client().submit(body).id().toString();
    downSince = System.nanoTime();
  }

  @AfterAll
  void stop() throws Exception {
    workers.forEach(ChildJvm::kill);
    coordinators.forEach(ChildJvm::kill);
    proxy.close();
    holdFirst.countDown();
    receiver.stop(0);
  }

  @Test
  @Order(0)
  void aRelayKilledMidDeliveryLeavesTheCallbackToTheNextLeader() throws Exception {
    SluiceClient client = client();
    ObjectNode body = (ObjectNode) Json.read(FaultHarness.wordcountBody("one two\nthree", 1, 0));
    body.putObject("callback")
        .put("url", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
    JobSnapshot job = client.submit(body);
    Awaitility.await("the first delivery reaches the receiver, which does not answer it")
        .atMost(Duration.ofSeconds(60))
        .until(() -> !hooks.isEmpty());
    int relay = leaderIndex();
    coordinators.get(relay).kill();

    Awaitility.await("the next leader delivers it")
        .atMost(Duration.ofSeconds(60))
        .until(() -> hooks.size() >= 2);
    assertThat(hooks.get(1)[0]).as("the same delivery").isEqualTo(hooks.get(0)[0]);
    assertThat(hooks.get(1)[1]).as("a later attempt").isNotEqualTo(hooks.get(0)[1]);
    assertThat(Json.read(hooks.get(1)[2]).at("/job/id").asText()).isEqualTo(job.id().toString());
    Awaitility.await("recorded as delivered")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                "DELIVERED"
                    .equals(
                        scalarText(
                            "SELECT status FROM webhook_outbox WHERE job_id = '"
                                + job.id()
                                + "'")));
  }

  @Test
  @Order(99)
  void aReceiverDownForAMinuteStillGetsTheCallback() throws Exception {
    Awaitility.await("the job ends and its callback fails while nothing listens")
        .atMost(Duration.ofSeconds(60))
        .until(() -> attempts(downJob) >= 3);
    long downFor = Duration.ofSeconds(61).toNanos() - (System.nanoTime() - downSince);
    if (downFor > 0) {
      Thread.sleep(downFor / 1_000_000);
    }
    int failed = attempts(downJob);
    assertThat(scalarText(outboxOf(downJob, "status"))).isEqualTo("PENDING");
    List<String> got = new CopyOnWriteArrayList<>();
    HttpServer late =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), downPort), 20);
    late.createContext(
        "/hook",
        exchange -> {
          got.add(exchange.getRequestHeaders().getFirst("Sluice-Webhook-Attempt"));
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    late.start();
    try {
      Awaitility.await("the callback arrives once the receiver is back")
          .atMost(Duration.ofSeconds(30))
          .until(() -> "DELIVERED".equals(scalarText(outboxOf(downJob, "status"))));
    } finally {
      late.stop(0);
    }
    assertThat(got).as("delivered once, as a later attempt").hasSize(1);
    assertThat(Integer.parseInt(got.get(0))).isGreaterThan(failed);
    assertThat(
            scalarText(
                "SELECT a.status_code FROM webhook_attempts a JOIN webhook_outbox o"
                    + " ON o.id = a.outbox_id WHERE o.job_id = '"
                    + downJob
                    + "' ORDER BY a.attempt DESC LIMIT 1"))
        .as("the last attempt recorded is the answered one")
        .isEqualTo("204");
    System.out.printf(
        "ManyCoordinatorsIT: receiver down %d s, %d failed attempts, delivered as attempt %s%n",
        (System.nanoTime() - downSince) / 1_000_000_000L, failed, got.get(0));
  }

  private static String outboxOf(String job, String column) {
    return "SELECT " + column + " FROM webhook_outbox WHERE job_id = '" + job + "'";
  }

  private int attempts(String job) throws Exception {
    String n =
        scalarText(
            "SELECT count(*) FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id"
                + " WHERE o.job_id = '"
                + job
                + "'");
    return n == null ? 0 : Integer.parseInt(n);
  }

  /** Holds the first delivery unanswered until the test ends; answers the others 204. */
  private void receive(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    hooks.add(
        new String[] {
          exchange.getRequestHeaders().getFirst("Sluice-Webhook-Id"),
          exchange.getRequestHeaders().getFirst("Sluice-Webhook-Attempt"),
          body
        });
    if (hooks.size() == 1) {
      try {
        holdFirst.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    exchange.sendResponseHeaders(204, -1);
    exchange.close();
  }

  private String scalarText(String sql) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  @Order(1)
  void aCoordinatorKilledDuringAStreamOfSubmissionsLosesNoAnsweredJob() throws Exception {
    Map<String, String> answered = new ConcurrentHashMap<>(); // job id → its text
    AtomicInteger unanswered = new AtomicInteger();
    AtomicBoolean submitting = new AtomicBoolean(true);
    AtomicInteger seq = new AtomicInteger();
    ExecutorService submitters = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> running = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      SluiceClient client = client(); // its own connections, spread over the coordinators
      running.add(
          submitters.submit(
              () -> {
                while (submitting.get()) {
                  int n = seq.getAndIncrement();
                  String text = Corpus.text(6, 1000 + n);
                  ObjectNode body = (ObjectNode) Json.read(FaultHarness.wordcountBody(text, 2, 0));
                  body.put("idempotencyKey", "stream-" + n);
                  try {
                    answered.put(client.submit(body).id().toString(), text);
                  } catch (RuntimeException e) {
                    unanswered.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    Awaitility.await("submissions reach every coordinator")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                answered.size() >= 60 && alivePorts().stream().allMatch(p -> proxy.opened(p) > 0));
    int victim = leaderIndex();
    int before = answered.size();
    coordinators.get(victim).kill();
    Awaitility.await("submissions go on through the survivors")
        .atMost(Duration.ofSeconds(30))
        .until(() -> answered.size() >= before + 100);
    submitting.set(false);
    for (Future<?> f : running) {
      f.get();
    }
    submitters.close();

    assertThat(unanswered.get())
        .as("a retried submit with a key always found a coordinator")
        .isZero();
    String survivor = "http://127.0.0.1:" + ports.get(firstAlive());
    for (Map.Entry<String, String> e : answered.entrySet()) {
      assertCountedOnce(survivor, e.getKey(), e.getValue());
    }
    assertThat(scalar("SELECT count(*) FROM jobs WHERE idempotency_key LIKE 'stream-%'"))
        .as("one job per key, however often a submit was retried")
        .isEqualTo(answered.size());
  }

  @Test
  @Order(2)
  void aWatchReconnectsToAnotherCoordinatorWhenItsOneDies() throws Exception {
    SluiceClient client = client();
    String text = Corpus.text(120, 77);
    JobSnapshot job =
        client.submit((ObjectNode) Json.read(FaultHarness.wordcountBody(text, 4, 150)));
    List<JobEvent> events = new CopyOnWriteArrayList<>();
    Future<JobSnapshot> watch =
        Executors.newVirtualThreadPerTaskExecutor()
            .submit(() -> client.watch(job.id(), Duration.ofSeconds(120), events::add));
    int[] serving = {-1};
    Awaitility.await("the event stream is open on a coordinator")
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              for (int i = 0; i < COORDINATORS; i++) {
                if (coordinators.get(i).isAlive() && proxy.openNow(ports.get(i)) > 0) {
                  serving[0] = i;
                }
              }
              return serving[0] >= 0 && !events.isEmpty();
            });
    coordinators.get(serving[0]).kill();

    JobSnapshot done = watch.get();
    assertThat(done.status()).isEqualTo("SUCCEEDED");
    assertThat(done.json().at("/result/totalWords").asLong())
        .isEqualTo(FaultHarness.countWords(text));
    assertThat(events.stream().filter(e -> e.kind().equals("state") && e.id() == 1).count())
        .as("a second stream began with the job's state")
        .isGreaterThanOrEqualTo(2);
    assertThat(events.get(events.size() - 1).kind()).isEqualTo("end");
  }

  private void assertCountedOnce(String api, String id, String text) throws Exception {
    String[] status = new String[1];
    Awaitility.await("job " + id + " ends")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () ->
                Set.of("SUCCEEDED", "FAILED", "CANCELLED")
                    .contains(status[0] = calls.job(api, id).path("status").asText()));
    var job = calls.job(api, id);
    assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
    assertThat(job.at("/result/totalWords").asLong()).isEqualTo(FaultHarness.countWords(text));
    assertThat(
            scalar(
                "SELECT count(*) FROM job_events WHERE job_id = '"
                    + id
                    + "' AND to_status = 'SUCCEEDED'"))
        .as("job %s collected once", id)
        .isEqualTo(1);
  }

  private int firstAlive() {
    for (int i = 0; i < COORDINATORS; i++) {
      if (coordinators.get(i).isAlive()) {
        return i;
      }
    }
    throw new AssertionError("no coordinator alive");
  }

  /** The index of the coordinator that leads now. */
  private int leaderIndex() throws Exception {
    String[] node = new String[1];
    Awaitility.await("a leader")
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              try (Connection c = env.connect();
                  ResultSet rs =
                      c.createStatement()
                          .executeQuery(
                              "SELECT node_id FROM coordinator_leader WHERE lease_until > now()")) {
                node[0] = rs.next() ? rs.getString(1) : null;
              }
              return node[0] != null
                  && coordinators.stream().anyMatch(j -> j.name().equals(node[0]));
            });
    for (int i = 0; i < coordinators.size(); i++) {
      if (coordinators.get(i).name().equals(node[0])) {
        return i;
      }
    }
    throw new AssertionError("leader " + node[0] + " is not one of this test's coordinators");
  }

  private List<Integer> alivePorts() {
    List<Integer> alive = new ArrayList<>();
    for (int i = 0; i < COORDINATORS; i++) {
      if (coordinators.get(i).isAlive()) {
        alive.add(ports.get(i));
      }
    }
    return alive;
  }

  private SluiceClient client() {
    return SluiceClient.create(
        URI.create("http://127.0.0.1:" + proxy.port()),
        TOKEN,
        null,
        new RetryOnConflict(8, Duration.ofMillis(100), Duration.ofSeconds(2)));
  }

  private long scalar(String sql) throws Exception {
    try (Connection c = env.connect();
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
