package io.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildJvmIT {
  @TempDir Path dir;

  @Test
  void pausedChildRunsNoCodeUntilResumedAndStopsOnSigterm() throws Exception {
    ChildJvm child =
        ChildJvm.builder(Ticker.class.getName())
            .name("ticker")
            .env("TICKER_MARKER", "m42")
            .args("a", "b")
            .jvmArgs("-Xmx64m")
            .logFile(dir.resolve("ticker.log"))
            .start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> ticks(child) > 3);
      assertThat(Files.readString(child.logFile())).startsWith("marker=m42 arg=a,b");

      child.pause();
      long paused = ticks(child);
      Thread.sleep(300); // a paused process must not advance; nothing to await for an absence
      assertThat(ticks(child)).isLessThanOrEqualTo(paused + 1);
      assertThat(child.isAlive()).isTrue();

      child.resume();
      await().atMost(Duration.ofSeconds(10)).until(() -> ticks(child) > paused + 5);

      child.pause();
      assertThat(child.stop()).as("exit code after SIGTERM of a paused child").isEqualTo(143);
      assertThat(child.isAlive()).isFalse();
    } finally {
      child.kill();
    }
  }

  @Test
  void killedChildIsGoneAtOnce() {
    ChildJvm child =
        ChildJvm.builder(Ticker.class.getName()).logFile(dir.resolve("killed.log")).start();
    await().atMost(Duration.ofSeconds(30)).until(() -> ticks(child) > 0);
    child.kill();
    assertThat(child.isAlive()).isFalse();
    assertThat(child.waitFor(Duration.ZERO)).hasValue(137);
    assertThat(ProcessHandle.of(child.pid()).map(ProcessHandle::isAlive))
        .isNotEqualTo(Optional.of(true));
  }

  private static long ticks(ChildJvm child) throws IOException {
    try (var lines = Files.lines(child.logFile())) {
      return lines.filter(l -> l.startsWith("tick ")).count();
    }
  }
}
