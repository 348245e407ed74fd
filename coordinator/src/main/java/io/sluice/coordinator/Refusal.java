package io.sluice.coordinator;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.SluiceException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Why the coordinator will not do what it was asked, in the domain's words: the submission, job and
 * requeue code throws these, and {@link ApiErrors} alone decides what HTTP status, body and {@code
 * Retry-After} each one becomes. Each carries the facts a caller needs to act ({@link #details()}:
 * the field at fault, the job's current version, …).
 */
abstract sealed class Refusal extends SluiceException {
  private final Map<String, Object> details = new LinkedHashMap<>();

  private Refusal(String message) {
    super(message);
  }

  /** The facts the refusal names, in the order they were added; values are strings or numbers. */
  final Map<String, Object> details() {
    return Collections.unmodifiableMap(details);
  }

  /** This refusal, naming one more fact: a string or a number. */
  final Refusal with(String name, Object value) {
    details.put(name, value);
    return this;
  }

  /** The request itself is wrong: a field (named by {@code field}) does not hold. */
  static final class InvalidSubmission extends Refusal {
    InvalidSubmission(String message, String field) {
      super(message);
      with("field", field);
    }
  }

  /**
   * Items of a batch are wrong: each element of {@link #items()} names its {@code index}, its
   * {@code error} and the facts of its refusal; nothing of the batch was stored.
   */
  static final class InvalidBatch extends Refusal {
    private final List<ObjectNode> items;

    InvalidBatch(String message, List<ObjectNode> items) {
      super(message);
      this.items = List.copyOf(items);
      with("invalid", items.size());
    }

    List<ObjectNode> items() {
      return items;
    }
  }

  /** No job (or no such task of it) the caller may see. */
  static final class JobNotFound extends Refusal {
    JobNotFound(String message, UUID jobId) {
      super(message);
      with("jobId", jobId.toString());
    }

    /** The task that does not exist, for a job that does. */
    JobNotFound task(int seq) {
      with("seq", seq);
      return this;
    }
  }

  /**
   * The job is not in a state that allows the change: it moved on (its {@code currentVersion} is
   * named when a fresh read and a retry can succeed) or it is finished.
   */
  static final class JobConflict extends Refusal {
    JobConflict(String message) {
      super(message);
    }
  }

  /** The idempotency key names a job of a different request, or one still being created. */
  static final class IdempotencyConflict extends Refusal {
    /**
     * @param existing the job the key names, or null while it is being created
     */
    IdempotencyConflict(String message, UUID existing) {
      super(message);
      if (existing != null) {
        with("jobId", existing.toString());
      }
    }
  }

  /** The tenant's quota of active jobs is used up; it frees when one of its jobs finishes. */
  static final class QuotaExceeded extends Refusal {
    QuotaExceeded(String message) {
      super(message);
    }
  }

  /** A backlog the job would wait in is full ({@link AdmissionControl}); nothing was stored. */
  static final class Overloaded extends Refusal {
    private final AdmissionControl.Reason reason;

    Overloaded(String message, AdmissionControl.Reason reason, long current, long limit) {
      super(message);
      this.reason = reason;
      with("reason", reason.label());
      with("current", current);
      with("limit", limit);
    }

    AdmissionControl.Reason reason() {
      return reason;
    }
  }
}
