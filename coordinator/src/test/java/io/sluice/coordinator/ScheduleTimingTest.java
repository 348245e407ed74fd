package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleTimingTest {
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

  /** A clock fixed at a local time in Berlin. */
  private static Clock berlin(String local) {
    return Clock.fixed(LocalDateTime.parse(local).atZone(BERLIN).toInstant(), BERLIN);
  }

  private static List<ZonedDateTime> fires(ScheduleTiming timing, Clock from, int n) {
    List<ZonedDateTime> fires = new ArrayList<>();
    Instant t = from.instant();
    for (int i = 0; i < n; i++) {
      t = timing.next(t);
      fires.add(t.atZone(BERLIN));
    }
    return fires;
  }

  @Test
  void aDailyCronAtHalfPastTwoDoesNotFireOnTheDayBerlinSkipsThatHour() {
    ScheduleTiming timing = ScheduleTiming.cron("0 30 2 * * *", "Europe/Berlin");

    List<ZonedDateTime> fires = fires(timing, berlin("2026-03-27T12:00"), 3);

    // 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day, and cron-utils
    // leaves the day out rather than moving the fire to 03:30.
    assertThat(fires)
        .extracting(ZonedDateTime::toString)
        .containsExactly(
            "2026-03-28T02:30+01:00[Europe/Berlin]",
            "2026-03-30T02:30+02:00[Europe/Berlin]",
            "2026-03-31T02:30+02:00[Europe/Berlin]");
  }

  @Test
  void aDailyCronAtHalfPastTwoFiresOnceOnTheDayBerlinRepeatsThatHour() {
    ScheduleTiming timing = ScheduleTiming.cron("30 2 * * *", "Europe/Berlin");

    List<ZonedDateTime> fires = fires(timing, berlin("2026-10-24T12:00"), 3);

    // 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice; it fires at the first.
    assertThat(fires)
        .extracting(f -> f.toLocalDate().toString())
        .containsExactly("2026-10-25", "2026-10-26", "2026-10-27");
    assertThat(fires.get(0).getOffset().toString()).isEqualTo("+02:00");
    assertThat(fires.get(1).getOffset().toString()).isEqualTo("+01:00");
  }

  @Test
  void anHourlyPeriodKeepsRealTimeAcrossBothTransitions() {
    ScheduleTiming timing = ScheduleTiming.every(Duration.ofHours(1));

    List<ZonedDateTime> spring = fires(timing, berlin("2026-03-29T00:30"), 3);
    List<ZonedDateTime> autumn = fires(timing, berlin("2026-10-25T01:30"), 3);

    assertThat(spring)
        .extracting(f -> f.toLocalTime().toString())
        .containsExactly("01:30", "03:30", "04:30");
    assertThat(autumn)
        .extracting(f -> f.toLocalTime().toString())
        .containsExactly("02:30", "02:30", "03:30");
    assertThat(Duration.between(autumn.get(0), autumn.get(1))).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void aScheduleDueOnTimeFiresAtItsFireTime() {
    ScheduleTiming timing = ScheduleTiming.every(Duration.ofSeconds(10));
    Instant due = Instant.parse("2026-01-01T00:00:00Z");

    ScheduleTiming.Plan plan = timing.plan(due, due.plusMillis(300), "none");

    assertThat(plan).isEqualTo(new ScheduleTiming.Plan(due, due.plusSeconds(10), 0));
  }

  @Test
  void afterAnOutageCatchUpNoneFiresNothingAndCatchUpOneFiresOnceAtTheLatestMissedTime() {
    ScheduleTiming timing = ScheduleTiming.cron("*/10 * * * * *", "UTC");
    Instant due = Instant.parse("2026-01-01T00:00:00Z");
    Instant now = Instant.parse("2026-01-01T00:01:05Z");

    ScheduleTiming.Plan none = timing.plan(due, now, "none");
    ScheduleTiming.Plan one = timing.plan(due, now, "one");

    assertThat(none)
        .isEqualTo(new ScheduleTiming.Plan(null, Instant.parse("2026-01-01T00:01:10Z"), 7));
    assertThat(one.fireTime()).isEqualTo(Instant.parse("2026-01-01T00:01:00Z"));
    assertThat(one.next()).isEqualTo(Instant.parse("2026-01-01T00:01:10Z"));
  }

  @Test
  void aWrongExpressionZoneOrPeriodIsRefusedSayingWhy() {
    assertThatThrownBy(() -> ScheduleTiming.cron("* * *", "UTC")).hasMessageContaining("5 fields");
    assertThatThrownBy(() -> ScheduleTiming.cron("61 * * * *", "UTC"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ScheduleTiming.cron("* * * * *", "Mars/Olympus"))
        .hasMessageContaining("not a time zone");
    assertThatThrownBy(() -> ScheduleTiming.every(Duration.ofMillis(500)))
        .hasMessageContaining("at least 1s");
  }
}
