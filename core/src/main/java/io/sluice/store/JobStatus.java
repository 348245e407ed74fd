package io.sluice.store;

/**
 * A job's (or a stage's) life: (WAITING →) QUEUED → RUNNING → COLLECTING → SUCCEEDED, or FAILED /
 * CANCELLED. Only a stage of a pipeline is ever WAITING.
 */
public enum JobStatus {
  /** A stage of a pipeline whose dependencies have not all succeeded: not split yet. */
  WAITING,
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
