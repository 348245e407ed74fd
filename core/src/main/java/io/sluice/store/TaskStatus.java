package io.sluice.store;

/** A task's life: QUEUED → RUNNING → SUCCEEDED / FAILED, with RETRY_WAIT between attempts. */
public enum TaskStatus {
  QUEUED,
  RUNNING,
  RETRY_WAIT,
  SUCCEEDED,
  FAILED,
  CANCELLED
}
