package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.json.Json;
import io.sluice.registry.JobTypeRegistry;
import io.sluice.store.Schedule;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleDefinitionTest {
  // Validating a job body reads only the job types: no database, dispatcher or admission.
  private final JobSubmitter submitter =
      new JobSubmitter(null, null, JobTypeRegistry.load(), null, null, null, 1);
  private final Instant now = Instant.parse("2026-06-01T10:00:00.250Z");

  private Schedule created(String body) {
    return ScheduleDefinition.create(Json.read(body), "team-a", now, submitter);
  }

  private static final String EVERY_MINUTE =
      """
      {"name":"m","every":"1m","job":{"type":"noop","payload":{"tasks":1}}}
      """;

  @Test
  void aNewScheduleFiresFirstOnePeriodOrOneCronTimeAfterNow() {
    Schedule every = created(EVERY_MINUTE);
    Schedule cron =
        created(
            """
            {"name":"c","cron":"0 12 * * *","timezone":"Europe/Berlin",
             "job":{"type":"noop","payload":{"tasks":1}}}
            """);

    assertThat(every.nextFireAt()).isEqualTo(now.plusSeconds(60));
    assertThat(every.overlap()).isEqualTo("skip");
    assertThat(every.catchUp()).isEqualTo("none");
    // 12:00:00.250 in Berlin (CEST) already passed noon: the next is tomorrow's.
    assertThat(cron.nextFireAt()).isEqualTo(Instant.parse("2026-06-02T10:00:00Z"));
    assertThat(ScheduleDefinition.json(every).get("every").asText()).isEqualTo("1m");
  }

  @Test
  void aPatchThatPausesKeepsTheNextFireTimeAndAResumeStartsFromNow() {
    Schedule s = created(EVERY_MINUTE);
    Instant later = now.plusSeconds(3600);

    Schedule paused = ScheduleDefinition.patch(Json.read("{\"paused\":true}"), s, later, submitter);
    Schedule resumed =
        ScheduleDefinition.patch(Json.read("{\"paused\":false}"), paused, later, submitter);

    assertThat(paused.nextFireAt()).isEqualTo(s.nextFireAt());
    assertThat(ScheduleDefinition.json(paused).get("nextFireAt").isNull()).isTrue();
    assertThat(resumed.nextFireAt()).isEqualTo(later.plusSeconds(60));
  }

  @Test
  void aPatchToCronDropsTheEveryAndKeepsWhatItDoesNotName() {
    Schedule s = created(EVERY_MINUTE);

    Schedule changed =
        ScheduleDefinition.patch(Json.read("{\"cron\":\"*/5 * * * * *\"}"), s, now, submitter);

    assertThat(changed.cron()).isEqualTo("*/5 * * * * *");
    assertThat(changed.every()).isNull();
    assertThat(changed.nextFireAt()).isEqualTo(Instant.parse("2026-06-01T10:00:05Z"));
    assertThat(changed.job()).isEqualTo(s.job());
    assertThat(changed.overlap()).isEqualTo(s.overlap());
  }

  @Test
  void aJobBodyIsRefusedAsASubmitWouldBeWithItsFieldUnderJob() {
    assertThatThrownBy(
            () ->
                created(
                    """
                    {"name":"m","every":"1m","job":{"type":"noop","payload":{"tasks":0}}}
                    """))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> assertThat(e.body().get("field").asText()).isEqualTo("job.payload.tasks"));
    assertThatThrownBy(
            () ->
                ScheduleDefinition.patch(
                    Json.read("{\"job\":{\"type\":\"noop\"}}"),
                    created(EVERY_MINUTE),
                    now,
                    submitter))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> assertThat(e.body().get("field").asText()).isEqualTo("job.payload"));
  }

  @Test
  void periodsAreShownAsTheyWereMostLikelyWritten() {
    assertThat(ScheduleDefinition.every(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(ScheduleDefinition.every(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(ScheduleDefinition.every(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }
}
