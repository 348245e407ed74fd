package io.sluice.queue;

/**
 * The outcome of counting a job's finished tasks.
 *
 * @param remaining tasks not yet counted after the call; negative when the counter is missing
 * @param crossed true for the one call that brought the count to zero
 */
public record FanIn(long remaining, boolean crossed) {
  /** Redis lost the counter: the caller falls back to PostgreSQL's counts. */
  public boolean counterMissing() {
    return remaining < 0;
  }
}
