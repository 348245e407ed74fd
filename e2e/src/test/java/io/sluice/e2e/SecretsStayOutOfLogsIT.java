package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.config.ApiTokens;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Tokens and payload secrets never reach the logs: everything a coordinator and a worker log at
 * DEBUG, from start to stop, is captured while a planted token and secret are used, accepted,
 * rejected and run, and then searched for them.
 */
@ExtendWith(SluiceTestExtension.class)
class SecretsStayOutOfLogsIT {
  private static final String TOKEN = "planted-token-" + UUID.randomUUID();
  private static final String WRONG_TOKEN = "planted-wrong-" + UUID.randomUUID();
  private static final String SECRET = "planted-secret-" + UUID.randomUUID();

  @Test
  void plantedTokensAndPayloadSecretsAppearInNoLogLine(TestEnvironment env) {
    List<ILoggingEvent> events = captureLogs(() -> exercise(env));

    assertThat(events).as("the capture saw the stack work").hasSizeGreaterThan(20);
    assertThat(events)
        .extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(m -> m.contains("accepted with 4 tasks"));
    for (ILoggingEvent e : events) {
      String everything = render(e);
      assertThat(everything).as("log line: %s", e.getFormattedMessage()).doesNotContain(TOKEN);
      assertThat(everything).doesNotContain(WRONG_TOKEN);
      assertThat(everything).doesNotContain(SECRET);
    }
  }

  private static void exercise(TestEnvironment env) {
    try (Stack stack =
        new Stack(env, 1, 4, c -> c.withTokens(ApiTokens.parse("tenant-p:" + TOKEN)))) {
      JobApi api = new JobApi(stack);
      assertThat(stack.get("/health/live").statusCode()).as("health needs no token").isEqualTo(200);
      assertThat(stack.get("/health/ready").statusCode()).isIn(200, 503);
      String job =
          "{\"type\":\"noop\",\"payload\":{\"tasks\":4,\"apiKey\":\""
              + SECRET
              + "\"},"
              + "\"labels\":{\"note\":\""
              + SECRET
              + "\"}}";
      var created = api.submit(TOKEN, job);
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String id = Json.read(created.body()).get("id").asText();
      assertThat(api.submit(WRONG_TOKEN, job).statusCode()).isEqualTo(401);
      assertThat(
              api.submit(TOKEN, "{\"type\":\"noop\",\"payload\":{\"tasks\":\"" + SECRET + "\"}}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(
              api.submit(
                      TOKEN,
                      "{\"type\":\"noop\",\"payload\":{\"tasks\":1,\"x\":\""
                          + SECRET
                          + "\"},\""
                          + SECRET
                          + "\":1}")
                  .statusCode())
          .isEqualTo(400);
      assertThat(stack.awaitTerminal(id, Duration.ofSeconds(20)).get("status").asText())
          .isEqualTo("SUCCEEDED");
      assertThat(
              api.patch(UUID.fromString(id), "\"1\"", "application/json", WRONG_TOKEN, "{}")
                  .statusCode())
          .isEqualTo(401);
      assertThat(api.cancel(UUID.fromString(id), TOKEN).statusCode()).isEqualTo(409);
    }
  }

  /** Runs the action with every logger at DEBUG and returns what was logged meanwhile. */
  private static List<ILoggingEvent> captureLogs(Runnable action) {
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    Logger sluice = (Logger) LoggerFactory.getLogger("io.sluice");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    Level rootLevel = root.getLevel();
    Level sluiceLevel = sluice.getLevel();
    root.addAppender(appender);
    root.setLevel(Level.DEBUG);
    sluice.setLevel(Level.DEBUG);
    try {
      action.run();
    } finally {
      root.detachAppender(appender);
      root.setLevel(rootLevel);
      sluice.setLevel(sluiceLevel);
    }
    return new ArrayList<>(appender.list);
  }

  /** The message, its arguments, the MDC and any stack trace of one event. */
  private static String render(ILoggingEvent e) {
    StringBuilder sb = new StringBuilder(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      for (Object arg : e.getArgumentArray()) {
        sb.append(' ').append(arg);
      }
    }
    sb.append(' ').append(e.getMDCPropertyMap());
    if (e.getThrowableProxy() != null) {
      sb.append(' ').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
    }
    return sb.toString();
  }
}
