package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.store.DatabaseUnavailableException;
import io.sluice.store.StoreException;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every domain refusal and database failure becomes the status, body and wait the README names. */
class ApiErrorsTest {
  private static final UUID JOB = UUID.fromString("00000000-0000-0000-0000-00000000000a");

  @Test
  void eachRefusalHasItsStatusAndNamesItsFacts() {
    ApiException invalid =
        ApiErrors.toApi(
            new Refusal.InvalidSubmission("unknown job type 'x'", "type").with("known", "noop"));
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.body().toString())
        .isEqualTo("{\"error\":\"unknown job type 'x'\",\"field\":\"type\",\"known\":\"noop\"}");
    assertThat(invalid.retryAfterSeconds()).isZero();

    ApiException missing =
        ApiErrors.toApi(new Refusal.JobNotFound("job x has no task 9", JOB).task(9));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.body().get("jobId").asText()).isEqualTo(JOB.toString());
    assertThat(missing.body().get("seq").asInt()).isEqualTo(9);

    ApiException stale =
        ApiErrors.toApi(new Refusal.JobConflict("the job changed").with("currentVersion", 7L));
    assertThat(stale.status()).isEqualTo(409);
    assertThat(stale.body().get("currentVersion").isNumber()).isTrue();

    ApiException reused = ApiErrors.toApi(new Refusal.IdempotencyConflict("used", JOB));
    assertThat(reused.status()).isEqualTo(409);
    assertThat(reused.body().get("jobId").asText()).isEqualTo(JOB.toString());
    assertThat(ApiErrors.toApi(new Refusal.IdempotencyConflict("in use", null)).body().has("jobId"))
        .isFalse();
  }

  @Test
  void aQuotaAndAShedAskTheClientToWaitAsTheirReasonSays() {
    ApiException quota =
        ApiErrors.toApi(new Refusal.QuotaExceeded("tenant t has 3 active jobs").with("quota", 3));
    assertThat(quota.status()).isEqualTo(429);
    assertThat(quota.retryAfterSeconds()).isEqualTo(5);
    assertThat(quota.body().toString())
        .isEqualTo(
            "{\"error\":\"tenant t has 3 active jobs\",\"quota\":3,\"retryAfterSeconds\":5}");

    for (AdmissionControl.Reason reason : AdmissionControl.Reason.values()) {
      ApiException shed = ApiErrors.toApi(new Refusal.Overloaded("overloaded", reason, 10, 10));
      assertThat(shed.status()).isEqualTo(503);
      assertThat(shed.retryAfterSeconds()).isEqualTo(reason.retryAfterSeconds).isPositive();
      assertThat(shed.body().get("reason").asText()).isEqualTo(reason.label());
    }
  }

  @Test
  void anOutageWaitsTwoSecondsWhicheverExceptionCarriesItAndALosingTransactionOne() {
    ApiException down =
        ApiErrors.unavailable(new DatabaseUnavailableException("circuit open", null));
    ApiException lost =
        ApiErrors.unavailable(
            new StoreException("query", new SQLException("gone", "08006", new ConnectException())));
    ApiException pool =
        ApiErrors.unavailable(
            new StoreException("query", new SQLTransientConnectionException("pool timeout")));
    for (ApiException e : new ApiException[] {down, lost, pool}) {
      assertThat(e.status()).isEqualTo(503);
      assertThat(e.retryAfterSeconds()).isEqualTo(2);
      assertThat(e.body().get("error").asText())
          .isEqualTo("PostgreSQL is unavailable; retry shortly");
      assertThat(e.body().get("retryable").asBoolean()).isTrue();
    }
    ApiException busy =
        ApiErrors.unavailable(new StoreException("update", new SQLException("serialize", "40001")));
    assertThat(busy.retryAfterSeconds()).isEqualTo(1);
    assertThat(busy.body().get("retryAfterSeconds").asInt()).isEqualTo(1);
    assertThat(ApiErrors.unavailable(new StoreException("bug", new SQLException("x", "42P01"))))
        .isNull();
  }
}
