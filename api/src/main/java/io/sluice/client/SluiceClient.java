package io.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.SluiceException;
import io.sluice.client.Exchange.Resend;
import io.sluice.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The coordinator's HTTP API for Java programs: every call of the public contract the CLI and the
 * tests use. Thread-safe; share one per process.
 *
 * <pre>{@code
 * SluiceClient client = SluiceClient.create(URI.create("http://coordinator:8080"), token, null);
 * JobSnapshot job = client.submit("wordcount", payload);
 * JobSnapshot pipeline = client.submit(Pipeline.builder().stage(...).build());
 * job.stages().forEach(s -> System.out.println(s.name() + " " + s.status()));
 * client.update(job.id(), j -> JobUpdate.priority(j.priority() + 1));
 * }</pre>
 *
 * <p>A refusal is a {@link SluiceApiException} with the status and the server's error body; no
 * answer at all is a {@link ConnectionLostException}. Reads are retried after a lost connection, a
 * 429 or a 503; a submit only when it carries an {@code idempotencyKey} (the server then answers a
 * repeat with the job the first one created); other writes are sent once, since the server may have
 * acted on a request whose answer was lost. {@link #update} is the safe read-modify-write.
 *
 * <p>A {@link Listener} hears every version conflict the server answered and every retry (reason
 * {@code conflict}, {@code unavailable}, {@code rate_limited} or {@code connection}); core's {@code
 * ClientMetrics} turns them into {@code sluice_client_conflicts_total} and {@code
 * sluice_client_retries_total{reason}}.
 */
public final class SluiceClient {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  // Submitting splits the payload into tasks in the request: a large job takes a while.
  private static final Duration SUBMIT_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(2);
  private static final int MAX_BATCH = 1000;

  /** One HTTP exchange; a seam so tests can answer without a server. */
  interface Transport {
    Reply send(HttpRequest request) throws IOException, InterruptedException;
  }

  /** What a server answered. */
  record Reply(int status, String body, String etag, String retryAfter) {}

  /** Hears what the client retried and why; the default hears nothing. */
  public interface Listener {
    Listener NONE = new Listener() {};

    /** The server answered 409 with a newer version. */
    default void conflict() {}

    /** A try failed and the client will try again after a wait. */
    default void retried(String reason) {}
  }

  /** Waits between tries; a seam for tests. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final URI base;
  private final String token;
  private final Exchange exchange;
  private final RetryOnConflict retry;
  private final Listener listener;
  private final EventStream events;

  SluiceClient(
      URI base,
      String token,
      Transport transport,
      RetryOnConflict retry,
      Sleeper sleeper,
      Listener listener) {
    this(base, token, transport, null, retry, sleeper, listener);
  }

  SluiceClient(
      URI base,
      String token,
      Transport transport,
      EventStream.Source source,
      RetryOnConflict retry,
      Sleeper sleeper,
      Listener listener) {
    this.base = Exchange.trimmed(base);
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.exchange = new Exchange(transport, retry, sleeper, listener);
    this.retry = retry;
    this.listener = listener;
    this.events = source == null ? null : new EventStream(source, exchange, retry);
  }

  /**
   * A client of the API at {@code base}, authenticating with {@code token} (none when null or
   * blank); {@code listener} may be null.
   */
  public static SluiceClient create(URI base, String token, Listener listener) {
    return create(base, token, listener, RetryOnConflict.DEFAULT);
  }

  /** As {@link #create(URI, String, Listener)}, retrying as {@code retry} says. */
  public static SluiceClient create(
      URI base, String token, Listener listener, RetryOnConflict retry) {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .build();
    Transport transport =
        request -> {
          HttpResponse<String> r =
              http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
          return new Reply(
              r.statusCode(),
              r.body(),
              r.headers().firstValue("ETag").orElse(null),
              r.headers().firstValue("Retry-After").orElse(null));
        };
    EventStream.Source source =
        request -> {
          HttpResponse<Stream<String>> r = http.send(request, HttpResponse.BodyHandlers.ofLines());
          return new EventStream.Lines(
              r.statusCode(), r.body(), r.headers().firstValue("Retry-After").orElse(null));
        };
    return new SluiceClient(
        base,
        token,
        transport,
        source,
        retry,
        d -> Thread.sleep(d),
        listener == null ? Listener.NONE : listener);
  }

  /** The API's base URL, without a trailing slash. */
  public URI base() {
    return base;
  }

  /**
   * {@code POST /api/v1/jobs}: submits a job, retried only when {@code request} carries an {@code
   * idempotencyKey}.
   *
   * @param request the submit body: {@code type} and {@code payload} or {@code stages}, and the
   *     optional fields of the contract
   * @return the new job (201), or the job an earlier submit with the same key created (200)
   */
  public JobSnapshot submit(ObjectNode request) {
    Resend resend = request.path("idempotencyKey").isTextual() ? Resend.SAFE : Resend.NEVER;
    HttpRequest r =
        request("/api/v1/jobs", SUBMIT_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(request), StandardCharsets.UTF_8))
            .build();
    return Exchange.snapshot(exchange.send(r, resend));
  }

  /**
   * {@code POST /api/v1/jobs/batch}: submits 1–1000 jobs all or nothing. Retried like {@link
   * #submit(ObjectNode)} only when every body carries an {@code idempotencyKey} (a repeat then
   * answers the jobs the first send created); otherwise sent once.
   *
   * @param bodies submit bodies, as {@link #submit(ObjectNode)} takes one
   * @return the new jobs (201), in the order of {@code bodies}
   * @throws SluiceApiException 400 listing every invalid item by index (nothing was written), or
   *     404 from a coordinator that predates batches
   */
  public List<JobSnapshot> submitBatch(List<? extends JsonNode> bodies) {
    if (bodies.isEmpty() || bodies.size() > MAX_BATCH) {
      throw new IllegalArgumentException(
          "a batch holds 1 to " + MAX_BATCH + " jobs, not " + bodies.size());
    }
    boolean keyed = bodies.stream().allMatch(b -> b.path("idempotencyKey").isTextual());
    ObjectNode body = Json.object();
    body.putArray("jobs").addAll(List.copyOf(bodies));
    HttpRequest r =
        request("/api/v1/jobs/batch", SUBMIT_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8))
            .build();
    JsonNode answer = Exchange.body(exchange.send(r, keyed ? Resend.SAFE : Resend.NEVER));
    List<JobSnapshot> jobs = new ArrayList<>(bodies.size());
    for (JsonNode item : answer.path("items")) {
      jobs.add(new JobSnapshot(item, item.path("version").asLong()));
    }
    if (jobs.size() != bodies.size()) {
      throw new SluiceException(
          "POST /api/v1/jobs/batch answered "
              + jobs.size()
              + " items for "
              + bodies.size()
              + " jobs");
    }
    return jobs;
  }

  /**
   * {@code POST /api/v1/jobs} of a one-stage job built with {@link JobRequest}; retried only when
   * it carries an {@code idempotencyKey}, as {@link #submit(ObjectNode)}.
   */
  public JobSnapshot submit(JobRequest request) {
    return submit(request.toJson());
  }

  /** {@code POST /api/v1/jobs} of a job of {@code type}; sent once (no idempotency key). */
  public JobSnapshot submit(String type, JsonNode payload) {
    ObjectNode body = Json.object().put("type", type);
    body.set("payload", payload);
    return submit(body);
  }

  /**
   * {@code POST /api/v1/jobs} of a pipeline ({@code stages}); retried only when it carries an
   * {@code idempotencyKey}, as {@link #submit(ObjectNode)}.
   */
  public JobSnapshot submit(Pipeline pipeline) {
    return submit(pipeline.toJson());
  }

  /** {@code GET /api/v1/jobs/{id}}. */
  public JobSnapshot get(UUID id) {
    return get(id.toString());
  }

  /**
   * {@code GET /api/v1/jobs/{id}} of an id as a person typed it; the server checks it (400 naming
   * {@code id} unless it is a UUID).
   */
  public JobSnapshot get(String id) {
    return Exchange.snapshot(exchange.send(read(jobPath(id)), Resend.SAFE));
  }

  /**
   * One page of {@code GET /api/v1/jobs}, newest first.
   *
   * @param status a job status ({@code RUNNING}, …), or null for all
   * @param cursor a previous page's {@link Page#nextCursor()}, or null for the first page
   * @param limit the page size, 1–1000
   */
  public Page jobs(String status, String cursor, int limit) {
    return page("/api/v1/jobs", status, cursor, limit);
  }

  /** One page of {@code GET /api/v1/jobs/{id}/tasks}, by sequence number; as {@link #jobs}. */
  public Page tasks(UUID jobId, String status, String cursor, int limit) {
    return tasks(jobId, null, status, cursor, limit);
  }

  /**
   * One page of {@code GET /api/v1/jobs/{id}/tasks?stage=NAME}: the tasks of one stage of a
   * pipeline ({@link Page#tasks()} names each one's stage); as {@link #jobs}.
   *
   * @param stage a stage's name, or null for the tasks of every stage
   */
  public Page tasks(UUID jobId, String stage, String status, String cursor, int limit) {
    String path = jobPath(jobId.toString()) + "/tasks";
    return page(stage == null ? path : path + "?stage=" + encode(stage), status, cursor, limit);
  }

  /**
   * One {@code PATCH /api/v1/jobs/{id}} with {@code If-Match: "<version>"}; a stale version throws
   * a {@link SluiceApiException} whose {@link SluiceApiException#isVersionConflict()} is true. Sent
   * once; {@link #update} retries.
   */
  public JobSnapshot patch(UUID id, long version, JobUpdate update) {
    HttpRequest r =
        request(jobPath(id.toString()), TIMEOUT)
            .header("Content-Type", "application/json")
            .header("If-Match", "\"" + version + "\"")
            .method("PATCH", HttpRequest.BodyPublishers.ofString(Json.write(update.toJson())))
            .build();
    return Exchange.snapshot(exchange.once(r));
  }

  /** The schedule calls ({@code /api/v1/schedules}): create, list, get, patch, pause, delete. */
  public Schedules schedules() {
    return new Schedules(exchange, path -> request(path, TIMEOUT));
  }

  /** {@code POST /api/v1/jobs/{id}/cancel}. */
  public JobSnapshot cancel(UUID id) {
    return cancel(id.toString());
  }

  /**
   * {@code POST /api/v1/jobs/{id}/cancel} of an id as a person typed it. Retried like a read: the
   * server answers a cancel of a job it already cancelled with 200 and the job.
   */
  public JobSnapshot cancel(String id) {
    return Exchange.snapshot(exchange.send(post(jobPath(id) + "/cancel"), Resend.SAFE));
  }

  /**
   * Reads the job, computes the change from what it read, and patches it at that version. When the
   * job changed meanwhile (409 with {@code currentVersion}), the server was briefly unavailable or
   * busy (503, 429) or the connection was lost, it waits ({@link RetryOnConflict}), reads the job
   * again and re-applies {@code change} to the fresh copy; any other refusal (a validation error,
   * 404, a finished job) is thrown at once. {@code change} must depend only on the job it is given:
   * after a lost connection the first patch may have been applied, and the fresh copy shows it.
   *
   * @return the job after the change
   */
  public JobSnapshot update(UUID id, Function<JobSnapshot, JobUpdate> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        JobSnapshot current = Exchange.snapshot(exchange.once(read(jobPath(id.toString()))));
        return patch(id, current.version(), change.apply(current));
      } catch (SluiceApiException e) {
        if (e.isVersionConflict()) {
          listener.conflict();
        }
        if (!e.isRetryable() || attempt >= retry.maxAttempts()) {
          throw e;
        }
        exchange.pause(attempt, Exchange.reason(e), e.retryAfter(), e);
      } catch (ConnectionLostException e) {
        if (attempt >= retry.maxAttempts()) {
          throw e;
        }
        exchange.pause(attempt, "connection", null, e);
      }
    }
  }

  /**
   * {@code GET /api/v1/jobs/{id}/events}: hands each event of the job to {@code onEvent} until the
   * job has ended, then returns the job as {@link #get(UUID)} reads it. A stream that breaks is
   * opened again (it starts with the whole snapshot, so no state is missed); one that breaks more
   * often in a row than the retry allows ends in a {@link ConnectionLostException}.
   *
   * @param timeout the longest the job may take to end
   * @throws SluiceApiException 404 when there is no such job for this token
   */
  public JobSnapshot watch(UUID id, Duration timeout, Consumer<JobEvent> onEvent) {
    if (events == null) {
      throw new IllegalStateException("this client was built without an event stream");
    }
    // No read timeout: a quiet job sends nothing for as long as it runs.
    HttpRequest r =
        withToken(HttpRequest.newBuilder(URI.create(base + jobPath(id.toString()) + "/events")))
            .header("Accept", "text/event-stream")
            .GET()
            .build();
    events.follow(r, id, timeout, onEvent);
    return get(id);
  }

  /** {@code GET /api/v1/workers}: workers and coordinators with their heartbeats, latest first. */
  public JsonNode workers(int limit) {
    return Exchange.body(exchange.send(read("/api/v1/workers?limit=" + limit), Resend.SAFE));
  }

  /**
   * {@code GET /api/v1/queues}: each queue's depth in Redis and activity in PostgreSQL, whether it
   * is paused ({@code paused, pausedAt, pausedBy}) and its {@code rateLimit}; {@code paused} lists
   * the paused ones.
   */
  public JsonNode queues(int limit) {
    return Exchange.body(exchange.send(read("/api/v1/queues?limit=" + limit), Resend.SAFE));
  }

  /** {@link #queues(int)} with the server's default page size. */
  public JsonNode listQueues() {
    return Exchange.body(exchange.send(read("/api/v1/queues"), Resend.SAFE));
  }

  /**
   * {@code POST /api/v1/queues/{queue}/pause} (an admin token): no worker starts a new task of the
   * queue until it is resumed; running tasks finish and the queue still accepts jobs. Retried like
   * a read: pausing a paused queue changes nothing.
   *
   * @return the queue: {@code name, paused, pausedAt, pausedBy, controlVersion, rateLimit}
   * @throws SluiceApiException 403 for a tenant's token, 400 for a bad queue name
   */
  public JsonNode pauseQueue(String queue) {
    return Exchange.body(exchange.send(post(queuePath(queue) + "/pause"), Resend.SAFE));
  }

  /**
   * {@code POST /api/v1/queues/{queue}/resume} (an admin token): workers start the queue's tasks
   * again within a second. Retried like a read.
   *
   * @return the queue, as {@link #pauseQueue} returns it
   */
  public JsonNode resumeQueue(String queue) {
    return Exchange.body(exchange.send(post(queuePath(queue) + "/resume"), Resend.SAFE));
  }

  /** {@code GET /api/v1/dead-letters}: tasks that ran out of attempts, newest first. */
  public Page deadLetters(int limit) {
    return new Page(
        Exchange.body(exchange.send(read("/api/v1/dead-letters?limit=" + limit), Resend.SAFE)));
  }

  /**
   * {@code POST /api/v1/jobs/{id}/tasks/{seq}/requeue}: gives a FAILED task a new attempt. Sent
   * once: a second send of a requeue that was applied would be refused (the task is no longer
   * FAILED).
   *
   * @param jobVersion the job's version the caller saw ({@code If-Match}), or null for any
   * @return {@code jobId, seq, taskStatus, jobStatus, jobVersion, revivedTasks, dispatched}
   */
  public JsonNode requeue(UUID jobId, int seq, Long jobVersion) {
    HttpRequest.Builder b =
        request(jobPath(jobId.toString()) + "/tasks/" + seq + "/requeue", TIMEOUT)
            .POST(HttpRequest.BodyPublishers.noBody());
    if (jobVersion != null) {
      b.header("If-Match", "\"" + jobVersion + "\"");
    }
    return Exchange.body(exchange.once(b.build()));
  }

  /**
   * {@code POST /admin/drain} on a worker's own port, with this client's token. Sent once.
   *
   * @param drainUrl the worker's drain URL, e.g. {@code http://10.0.0.7:8081/admin/drain}
   * @return the worker's answer, e.g. {@code {"status": "DRAINING"}}
   */
  public JsonNode drainWorker(URI drainUrl) {
    HttpRequest r =
        authorized(HttpRequest.newBuilder(drainUrl).timeout(TIMEOUT))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{}", StandardCharsets.UTF_8))
            .build();
    return Exchange.body(exchange.once(r));
  }

  /** Whether {@code GET /health/ready} answers 200 now; false while starting, down or unready. */
  public boolean ready() {
    try {
      exchange.once(request("/health/ready", READY_TIMEOUT).GET().build());
      return true;
    } catch (SluiceApiException | ConnectionLostException e) {
      return false;
    }
  }

  /** The request never got an answer (refused, reset, timed out); a retry may succeed. */
  public static final class ConnectionLostException extends SluiceException {
    private final String method;
    private final URI uri;

    ConnectionLostException(String method, URI uri, IOException cause) {
      super(method + " " + uri.getPath() + " got no answer: " + cause, cause);
      this.method = method;
      this.uri = uri;
    }

    /** The method of the request that got no answer. */
    public String method() {
      return method;
    }

    /** Where the request that got no answer was sent. */
    public URI uri() {
      return uri;
    }
  }

  private Page page(String path, String status, String cursor, int limit) {
    StringBuilder query =
        new StringBuilder(path)
            .append(path.contains("?") ? '&' : '?')
            .append("limit=")
            .append(limit);
    if (status != null) {
      query.append("&status=").append(encode(status));
    }
    if (cursor != null) {
      query.append("&cursor=").append(encode(cursor));
    }
    return new Page(Exchange.body(exchange.send(read(query.toString()), Resend.SAFE)));
  }

  private static String queuePath(String queue) {
    return "/api/v1/queues/" + encode(queue);
  }

  private static String jobPath(String id) {
    return "/api/v1/jobs/" + encode(id);
  }

  private HttpRequest read(String path) {
    return request(path, TIMEOUT).GET().build();
  }

  private HttpRequest post(String path) {
    return request(path, TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{}", StandardCharsets.UTF_8))
        .build();
  }

  private HttpRequest.Builder request(String path, Duration timeout) {
    return authorized(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout));
  }

  private HttpRequest.Builder authorized(HttpRequest.Builder b) {
    return withToken(b.header("Accept", "application/json"));
  }

  private HttpRequest.Builder withToken(HttpRequest.Builder b) {
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
