package io.sluice.store;

/** A job's life: QUEUED → RUNNING → COLLECTING → SUCCEEDED, or FAILED / CANCELLED. */
public enum JobStatus {
  QUEUED,
  RUNNING,
  COLLECTING,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
