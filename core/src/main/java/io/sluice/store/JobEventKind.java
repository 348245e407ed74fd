package io.sluice.store;

/**
 * The kinds of rows in a job's event log ({@code job_events.kind}). The names are public: the event
 * stream and the dashboard show them, so a kind is never renamed, only added.
 */
public enum JobEventKind {
  /** The job's status changed; {@code from_status} and {@code to_status} say how. */
  STATUS,
  /** A client changed the job's priority, attempts or labels. */
  PATCH,
  /** A dead-lettered task was put back on its queue. */
  REQUEUE,
  /** A task whose lease expired was taken back from its worker. */
  RECLAIM,
  /** A worker gave back a task it will not finish (draining, or told to stop). */
  HANDED_BACK,
  /**
   * The leader ended a task's attempt that ran past its job's {@code taskTimeout} (its worker did
   * not): the attempt failed and the task waits for its retry.
   */
  TIMED_OUT
}
