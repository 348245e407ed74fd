package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * A schedule row: the job body ({@code job}, a submit body) submitted at each fire time of {@code
 * cron} in {@code timezone}, or every {@code every}; exactly one of the two is set. {@code
 * lastFireAt} and {@code lastJobId} are null until the first fire (the job stays null for a fire
 * that was skipped).
 */
public record Schedule(
    UUID id,
    String tenant,
    String name,
    String cron,
    Duration every,
    String timezone,
    JsonNode job,
    String overlap,
    String catchUp,
    boolean paused,
    long version,
    Instant nextFireAt,
    Instant lastFireAt,
    UUID lastJobId,
    long fires,
    long skipped) {

  /** This schedule with its definition changed and the next fire time it leads to. */
  public Schedule redefined(
      String cron,
      Duration every,
      JsonNode job,
      String overlap,
      String catchUp,
      boolean paused,
      Instant nextFireAt) {
    return new Schedule(
        id,
        tenant,
        name,
        cron,
        every,
        timezone,
        job,
        overlap,
        catchUp,
        paused,
        version,
        nextFireAt,
        lastFireAt,
        lastJobId,
        fires,
        skipped);
  }
}
