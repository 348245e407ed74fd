package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.api.Splitter;
import io.sluice.json.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Streams a splitter's task inputs into {@code tasks} with COPY, 64 KiB at a time: a job of a
 * million tasks is one statement and never a million objects in memory. {@link #copyAll} writes the
 * tasks of many jobs split beforehand in one COPY.
 */
final class TaskCopy implements Splitter.TaskSink, AutoCloseable {
  private static final String COPY = "COPY tasks (job_id, seq, status, input) FROM STDIN";
  private static final int FLUSH_BYTES = 64 * 1024;

  private final CopyIn copy;
  private final String jobPrefix;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(FLUSH_BYTES * 2);
  private int count;

  TaskCopy(Connection connection, UUID jobId) throws SQLException {
    this.copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY);
    this.jobPrefix = jobId + "\t";
  }

  /** The tasks of every job of {@code jobs}, seqs 0…n-1 each, in one COPY. */
  static void copyAll(Connection connection, List<PreparedJob> jobs) throws SQLException {
    try (TaskCopy copy = new TaskCopy(connection, null)) {
      for (PreparedJob job : jobs) {
        String prefix = job.job().id() + "\t";
        for (int seq = 0; seq < job.inputs().size(); seq++) {
          copy.row(prefix, seq, job.inputs().get(seq));
        }
      }
      copy.finish();
    }
  }

  @Override
  public void accept(JsonNode input) {
    row(jobPrefix, count, Json.write(input));
  }

  private void row(String prefix, int seq, String inputJson) {
    StringBuilder row = new StringBuilder(64).append(prefix).append(seq).append("\tQUEUED\t");
    escape(inputJson, row);
    row.append('\n');
    count++;
    buffer.writeBytes(row.toString().getBytes(StandardCharsets.UTF_8));
    if (buffer.size() >= FLUSH_BYTES) {
      flush();
    }
  }

  /** Ends the COPY and returns the number of rows written. */
  int finish() throws SQLException {
    flush();
    copy.endCopy();
    return count;
  }

  private void flush() {
    try {
      copy.writeToCopy(buffer.toByteArray(), 0, buffer.size());
      buffer.reset();
    } catch (SQLException e) {
      throw new StoreException("COPY of task inputs failed", e);
    }
  }

  /** COPY text format: backslash, tab, newline and carriage return must be escaped. */
  private static void escape(String value, StringBuilder out) {
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\' -> out.append("\\\\");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        default -> out.append(ch);
      }
    }
  }

  @Override
  public void close() {
    if (copy.isActive()) {
      try {
        copy.cancelCopy();
      } catch (SQLException ignored) {
        // The transaction is rolled back anyway.
      }
    }
  }
}
