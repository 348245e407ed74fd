package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Each parameter is read by one rule, and a value that breaks it is a 400 naming it. */
class RequestParamsTest {

  @Test
  void aJobIdIsACanonicalUuidInEitherCase() {
    UUID id = UUID.randomUUID();
    assertThat(RequestParams.jobId(id.toString())).isEqualTo(id);
    assertThat(RequestParams.jobId(id.toString().toUpperCase())).isEqualTo(id);
    for (String bad : new String[] {"not-a-uuid", "1-2-3-4-5", "", id + "0", " " + id}) {
      assertRefused(() -> RequestParams.jobId(bad), "id");
    }
  }

  @Test
  void aLimitIsOneToAThousandAndDefaultsToAHundred() {
    assertThat(RequestParams.limit((String) null)).isEqualTo(100);
    assertThat(RequestParams.limit("")).isEqualTo(100);
    assertThat(RequestParams.limit("1000")).isEqualTo(1000);
    for (String bad : new String[] {"0", "1001", "-5", "ten", "1e3"}) {
      assertRefused(() -> RequestParams.limit(bad), "limit");
    }
  }

  @Test
  void aSeqIsZeroOrMore() {
    assertThat(RequestParams.seq("0")).isZero();
    for (String bad : new String[] {"-1", "x", "99999999999"}) {
      assertRefused(() -> RequestParams.seq(bad), "seq");
    }
  }

  @Test
  void aJobsCursorIsOnlyOneThisApiWrote() {
    UUID id = UUID.randomUUID();
    Instant at = Instant.parse("2026-01-02T03:04:05.123456Z");
    assertThat(RequestParams.jobsCursor(RequestParams.jobsCursor(at, id)))
        .isEqualTo(new RequestParams.JobsCursor(at, id));
    assertThat(RequestParams.jobsCursor((String) null)).isNull();
    String farFuture = RequestParams.jobsCursor(Instant.parse("+12000-01-01T00:00:00Z"), id);
    for (String bad : new String[] {"abc", "%%%", farFuture}) {
      assertRefused(() -> RequestParams.jobsCursor(bad), "cursor");
    }
    assertThat(RequestParams.tasksCursor((String) null))
        .isEqualTo(new RequestParams.TasksCursor(0, -1));
    assertThat(RequestParams.tasksCursor("41")).isEqualTo(new RequestParams.TasksCursor(0, 41));
    assertThat(RequestParams.tasksCursor("3:7")).isEqualTo(new RequestParams.TasksCursor(3, 7));
    assertThat(RequestParams.tasksCursor(RequestParams.tasksCursor(2, 9)))
        .isEqualTo(new RequestParams.TasksCursor(2, 9));
    assertRefused(() -> RequestParams.tasksCursor("-1:3"), "cursor");
    assertRefused(() -> RequestParams.tasksCursor("x"), "cursor");
  }

  private static void assertRefused(Runnable parse, String field) {
    Consumer<ApiException> names =
        e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.body().get("field").asText()).isEqualTo(field);
        };
    assertThatThrownBy(parse::run).isInstanceOfSatisfying(ApiException.class, names);
  }
}
