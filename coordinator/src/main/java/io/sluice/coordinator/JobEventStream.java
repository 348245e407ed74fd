package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import io.sluice.json.Json;
import io.sluice.store.Database;
import io.sluice.store.Job;
import io.sluice.store.PostgresJobStore;
import io.sluice.store.TenantScope;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/jobs/{id}/events}: server-sent events of one job. The first event is a {@code
 * state} snapshot; then a {@code state} event whenever the status changes and a {@code progress}
 * event whenever counts, progress or phases change, each carrying the whole snapshot; after the
 * terminal state an {@code end} event closes the stream. A pipeline's stream also has a {@code
 * stage} event (its name, status and counts) for every stage when the stream starts and whenever
 * one changes status. The watcher polls PostgreSQL (the record plane) on a virtual thread, so a
 * watcher costs two small reads per tick and no coordinator state.
 */
final class JobEventStream {
  private static final Logger log = LoggerFactory.getLogger(JobEventStream.class);
  private static final Duration TICK = Duration.ofMillis(250);
  private static final Duration HEARTBEAT = Duration.ofSeconds(10);

  private final Database db;
  private final LiveProgress progress;
  private final PostgresJobStore jobs = new PostgresJobStore();

  JobEventStream(Database db, LiveProgress progress) {
    this.db = db;
    this.progress = progress;
  }

  /** Streams the job's events if it is in {@code scope}; 404 otherwise, as for a missing job. */
  void stream(Context ctx, TenantScope scope) throws IOException {
    UUID id = RequestParams.jobId(ctx);
    Job first = load(scope, id);
    if (first == null) {
      throw new Refusal.JobNotFound("no job with id " + id, id);
    }
    var res = ctx.res();
    res.setStatus(200);
    res.setContentType("text/event-stream");
    res.setCharacterEncoding("UTF-8");
    res.setHeader("Cache-Control", "no-cache");
    res.setHeader("X-Accel-Buffering", "no");
    ServletOutputStream out = res.getOutputStream();
    try {
      follow(scope, id, first, out);
    } catch (IOException e) {
      log.debug("Watcher of job {} went away: {}", id, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void follow(TenantScope scope, UUID id, Job job, ServletOutputStream out)
      throws IOException, InterruptedException {
    long sequence = 0;
    String lastStatus = null;
    String lastSnapshot = null;
    long lastWrite = System.nanoTime();
    Map<String, String> stageStatus = new HashMap<>();
    while (job != null) {
      sequence = stageEvents(job, stageStatus, out, sequence);
      ObjectNode snapshot = snapshot(job);
      String text = Json.write(snapshot);
      if (!job.status().name().equals(lastStatus)) {
        send(out, "state", ++sequence, text);
      } else if (!text.equals(lastSnapshot)) {
        send(out, "progress", ++sequence, text);
      } else if (System.nanoTime() - lastWrite > HEARTBEAT.toNanos()) {
        out.write(": still watching\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
      } else {
        Thread.sleep(TICK);
        job = load(scope, id);
        continue;
      }
      lastWrite = System.nanoTime();
      lastStatus = job.status().name();
      lastSnapshot = text;
      if (job.status().isTerminal()) {
        send(out, "end", ++sequence, text);
        return;
      }
      Thread.sleep(TICK);
      job = load(scope, id);
    }
  }

  /**
   * A {@code stage} event for each stage of a pipeline whose status is new or changed since the
   * last tick (the first tick reports every stage), before the job's own event; returns the last
   * event id used.
   */
  private long stageEvents(Job job, Map<String, String> seen, ServletOutputStream out, long id)
      throws IOException {
    if (!job.isPipeline()) {
      return id;
    }
    long sequence = id;
    for (Job stage : db.query(c -> jobs.stagesOf(c, job.id()))) {
      ObjectNode shown = (ObjectNode) JobJson.stages(job, List.of(stage)).get(0);
      String status = shown.get("status").asText();
      if (!status.equals(seen.put(stage.stageName(), status))) {
        ObjectNode event = Json.object().put("id", job.id().toString());
        for (String field :
            new String[] {
              "name", "status", "taskCount", "tasksSucceeded", "tasksFailed", "error"
            }) {
          event.set(field, shown.get(field));
        }
        send(out, "stage", ++sequence, Json.write(event));
      }
    }
    return sequence;
  }

  private ObjectNode snapshot(Job job) {
    ObjectNode full = progress.decorate(JobJson.job(job), job);
    ObjectNode s = Json.object();
    for (String field :
        new String[] {
          "id",
          "status",
          "version",
          "taskCount",
          "tasksSucceeded",
          "tasksFailed",
          "progress",
          "running",
          "phases",
          "error"
        }) {
      s.set(field, full.get(field));
    }
    return s;
  }

  private Job load(TenantScope scope, UUID id) {
    return db.query(c -> jobs.find(c, scope, id)).orElse(null);
  }

  private static void send(ServletOutputStream out, String event, long id, String data)
      throws IOException {
    String frame = "event: " + event + "\nid: " + id + "\ndata: " + data + "\n\n";
    out.write(frame.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
