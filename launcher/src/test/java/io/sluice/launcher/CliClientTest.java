package io.sluice.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.client.SluiceApiException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CliClientTest {

  @Test
  void theUrlComesFromTheEnvironmentWithALocalDefault() {
    assertThat(CliClient.fromEnv(Map.<String, String>of()::get).base())
        .hasToString("http://127.0.0.1:8080");
    assertThat(CliClient.fromEnv(Map.of("SLUICE_API_URL", " https://sluice.example/ ")::get).base())
        .hasToString("https://sluice.example");
  }

  @Test
  void aUrlThatIsNotHttpIsAUsageErrorNamingTheVariable() {
    assertThatThrownBy(() -> CliClient.fromEnv(Map.of("SLUICE_API_URL", "localhost:8080")::get))
        .hasMessageStartingWith(
            "SLUICE_API_URL 'localhost:8080' is not a URL of the form http://host:port")
        .satisfies(e -> assertThat(((LauncherException) e).exitCode()).isEqualTo(2));
  }

  @Test
  void transportFailuresAreDescribedInWords() {
    // The JDK client's shape: ConnectException(null) <- ConnectException(null) <- the reason.
    ConnectException refused = connect(new ClosedChannelException());
    assertThat(CliClient.cause(refused)).isEqualTo("connection refused");
    assertThat(CliClient.cause(connect(new UnresolvedAddressException())))
        .isEqualTo("unknown host");
    assertThat(CliClient.cause(new HttpConnectTimeoutException("HTTP connect timed out")))
        .isEqualTo("no connection within 5 s");
    assertThat(CliClient.cause(new HttpTimeoutException("request timed out")))
        .isEqualTo("no answer within the request timeout");
  }

  @Test
  void unreachableNamesTheUrlTheCauseAndWhatToDo() {
    LauncherException e =
        CliClient.unreachable(
            "coordinator",
            URI.create("http://10.0.0.5:8080"),
            connect(new ClosedChannelException()));
    assertThat(e.exitCode()).isEqualTo(3);
    assertThat(e.getMessage())
        .isEqualTo(
            "cannot reach the coordinator at http://10.0.0.5:8080 (connection refused)."
                + " Is it running? Point SLUICE_API_URL at it.");
  }

  @Test
  void aRefusalShowsTheServersErrorJsonOrItsTextAsSentAndHintsAtTheToken() {
    LauncherException json =
        CliClient.refused(
            "coordinator",
            new SluiceApiException(
                400,
                CliClient.JSON.createObjectNode().put("error", "x"),
                null,
                "POST",
                "/api/v1/jobs",
                "{\"error\": \"unknown job type 'nope'\", \"field\": \"type\"}"));
    assertThat(json.exitCode()).isEqualTo(1);
    assertThat(json.getMessage())
        .isEqualTo(
            "the coordinator answered 400 to POST /api/v1/jobs:"
                + " {\"error\":\"unknown job type 'nope'\",\"field\":\"type\"}");

    LauncherException html =
        CliClient.refused(
            "coordinator",
            new SluiceApiException(
                401,
                CliClient.JSON.createObjectNode().put("error", "<html>"),
                null,
                "GET",
                "/api/v1/jobs/x",
                "<html>denied</html>"));
    assertThat(html.getMessage())
        .isEqualTo(
            "the coordinator answered 401 to GET /api/v1/jobs/x: <html>denied</html>"
                + " (set SLUICE_API_TOKEN to a token the coordinator accepts)");
  }

  private static ConnectException connect(Throwable reason) {
    ConnectException inner = new ConnectException();
    inner.initCause(reason);
    ConnectException outer = new ConnectException();
    outer.initCause(inner);
    return outer;
  }
}
