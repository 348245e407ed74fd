package io.sluice.coordinator;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * When a schedule fires: at the times of a cron expression in a time zone (cron-utils decides what
 * a daylight-saving gap or overlap does), or every fixed period of real time from an anchor. Also
 * decides, from PostgreSQL's clock, what a schedule that is due does now ({@link #plan}).
 */
abstract sealed class ScheduleTiming {
  /** The shortest period a schedule may have. */
  static final Duration MIN_EVERY = Duration.ofSeconds(1);

  private static final CronParser FIVE_FIELDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  // Seconds first, then the five fields of a Unix expression (Spring's layout).
  private static final CronParser SIX_FIELDS =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

  /** What a due schedule does: fire at {@code fireTime} (null: fire nothing), then wait. */
  record Plan(Instant fireTime, Instant next, long missed) {}

  /** The first fire time strictly after {@code after}. */
  abstract Instant next(Instant after);

  /** The last fire time at or before {@code now}, given that {@code due} is one at or before. */
  abstract Instant latest(Instant due, Instant now);

  /**
   * What a schedule due at {@code due} does at {@code now}: fire at {@code due} when that is its
   * latest fire time; if it missed later ones (the coordinators were down), {@code catchUp} "one"
   * fires once, at the latest, and "none" fires nothing; either way it next fires after now.
   */
  Plan plan(Instant due, Instant now, String catchUp) {
    Instant after = next(due);
    if (after.isAfter(now)) {
      return new Plan(due, after, 0);
    }
    Instant latest = latest(due, now);
    Instant next = next(latest);
    long missed = count(due, latest);
    return "one".equals(catchUp)
        ? new Plan(latest, next, missed - 1)
        : new Plan(null, next, missed);
  }

  /** Fire times from {@code from} to {@code to}, both included; counted up to a bound. */
  private long count(Instant from, Instant to) {
    long n = 1;
    for (Instant t = from; t.isBefore(to) && n < 10_000; t = next(t)) {
      n++;
    }
    return n;
  }

  /**
   * A cron timing: 5 fields, or 6 with seconds first.
   *
   * @throws IllegalArgumentException naming what is wrong with the expression or the zone
   */
  static ScheduleTiming cron(String expression, String zone) {
    ZoneId id = zone(zone);
    String trimmed = expression.trim();
    int fields = trimmed.split("\\s+").length;
    if (fields != 5 && fields != 6) {
      throw new IllegalArgumentException(
          "must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds"
              + " first, got "
              + fields);
    }
    Cron cron = (fields == 5 ? FIVE_FIELDS : SIX_FIELDS).parse(trimmed).validate();
    return new CronTiming(ExecutionTime.forCron(cron), id);
  }

  /** Every {@code period} of real time, the first fire at {@code anchor} + period. */
  static ScheduleTiming every(Duration period) {
    if (period.compareTo(MIN_EVERY) < 0) {
      throw new IllegalArgumentException("must be at least 1s, got " + period);
    }
    return new EveryTiming(period);
  }

  /** The zone named by an IANA id ({@code Europe/Berlin}) or an offset. */
  static ZoneId zone(String zone) {
    try {
      return ZoneId.of(zone);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(
          "'" + zone + "' is not a time zone (an IANA id such as Europe/Berlin, or UTC)");
    }
  }

  private static final class CronTiming extends ScheduleTiming {
    private final ExecutionTime times;
    private final ZoneId zone;

    CronTiming(ExecutionTime times, ZoneId zone) {
      this.times = times;
      this.zone = zone;
    }

    @Override
    Instant next(Instant after) {
      return times
          .nextExecution(ZonedDateTime.ofInstant(after, zone))
          .map(ZonedDateTime::toInstant)
          .orElseThrow(() -> new IllegalArgumentException("the expression never fires again"));
    }

    @Override
    Instant latest(Instant due, Instant now) {
      Instant last =
          times
              .lastExecution(ZonedDateTime.ofInstant(now.plusNanos(1), zone))
              .map(ZonedDateTime::toInstant)
              .orElse(due);
      return last.isBefore(due) ? due : last;
    }
  }

  private static final class EveryTiming extends ScheduleTiming {
    private final Duration period;

    EveryTiming(Duration period) {
      this.period = period;
    }

    @Override
    Instant next(Instant after) {
      return after.plus(period);
    }

    @Override
    Instant latest(Instant due, Instant now) {
      long steps = Duration.between(due, now).toMillis() / period.toMillis();
      return due.plus(period.multipliedBy(steps));
    }
  }
}
