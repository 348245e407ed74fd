package io.sluice.compose;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What the stack's PostgreSQL records about a job, read with {@code psql} inside the postgres
 * container (the compose file publishes no database port, and the test does not add one).
 */
final class StackRecords {
  /** One task row: its sequence number, status, attempt and the worker that last claimed it. */
  record TaskRow(int seq, String status, int attempt, String workerId) {}

  private final ComposeProject project;

  StackRecords(ComposeProject project) {
    this.project = project;
  }

  long tasks(String job) {
    return scalar("SELECT count(*) FROM tasks WHERE job_id = '" + uuid(job) + "'");
  }

  long tasksIn(String job, String status) {
    return scalar(
        "SELECT count(*) FROM tasks WHERE job_id = '"
            + uuid(job)
            + "' AND status = '"
            + word(status)
            + "'");
  }

  /** How often the job's status became SUCCEEDED: its collector's result committed. */
  long successes(String job) {
    return scalar(
        "SELECT count(*) FROM job_events WHERE job_id = '"
            + uuid(job)
            + "' AND to_status = 'SUCCEEDED'");
  }

  long collectAttempts(String job) {
    return scalar("SELECT collect_attempts FROM jobs WHERE id = '" + uuid(job) + "'");
  }

  /** The workers holding RUNNING tasks of the job. */
  Set<String> holders(String job) {
    return new HashSet<>(
        project.psql(
            "SELECT DISTINCT worker_id FROM tasks WHERE job_id = '"
                + uuid(job)
                + "' AND status = 'RUNNING'"));
  }

  /** The workers that last claimed the job's tasks: for finished tasks, who committed them. */
  Set<String> committers(String job) {
    return new HashSet<>(
        project.psql("SELECT DISTINCT worker_id FROM tasks WHERE job_id = '" + uuid(job) + "'"));
  }

  /** The RUNNING tasks the worker holds. */
  List<String> heldBy(String job, String worker) {
    return project.psql(
        "SELECT seq FROM tasks WHERE job_id = '"
            + uuid(job)
            + "' AND status = 'RUNNING' AND worker_id = '"
            + word(worker)
            + "' ORDER BY seq");
  }

  List<TaskRow> rows(String job, List<String> seqs) {
    seqs.forEach(Integer::parseInt);
    return project
        .psql(
            "SELECT seq || ' ' || status || ' ' || attempt || ' ' || coalesce(worker_id, '-')"
                + " FROM tasks WHERE job_id = '"
                + uuid(job)
                + "' AND seq IN ("
                + String.join(",", seqs)
                + ") ORDER BY seq")
        .stream()
        .map(
            line -> {
              String[] f = line.split(" ");
              return new TaskRow(Integer.parseInt(f[0]), f[1], Integer.parseInt(f[2]), f[3]);
            })
        .toList();
  }

  private long scalar(String sql) {
    return Long.parseLong(project.psql(sql).getFirst());
  }

  /** Values go into the SQL text (psql -c takes no parameters): only ids and plain words. */
  private static String uuid(String id) {
    return UUID.fromString(id).toString();
  }

  private static String word(String value) {
    if (!value.matches("[A-Za-z0-9_-]{1,128}")) {
      throw new IllegalArgumentException("not an id: " + value);
    }
    return value;
  }
}
