package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class HeadlessChromiumTest {

  @Test
  void aMissingBrowserSkipsTheBrowserTestsSayingWhatToInstall() {
    assertThatThrownBy(() -> HeadlessChromium.unavailable("it is missing", null, true, Map.of()))
        .isInstanceOf(TestAbortedException.class)
        .hasMessageContaining("apt-get install -y chromium chromium-driver")
        .hasMessageContaining("SLUICE_REQUIRE_BROWSER=1");
  }

  @Test
  void aMissingBrowserFailsWhenCiRequiresIt() {
    assertThatThrownBy(
            () ->
                HeadlessChromium.unavailable(
                    "it is missing", null, true, Map.of("SLUICE_REQUIRE_BROWSER", "1")))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining("must run");
  }

  @Test
  void anInstalledBrowserThatDoesNotStartFails() {
    assertThatThrownBy(
            () -> HeadlessChromium.unavailable("it did not start", null, false, Map.of()))
        .isInstanceOf(AssertionFailedError.class);
  }

  @Test
  void theExplicitSkipStillSkipsEvenWhenRequired() {
    assertThatThrownBy(
            () ->
                HeadlessChromium.unavailable(
                    "it did not start",
                    null,
                    false,
                    Map.of("SLUICE_SKIP_BROWSER_TESTS", "1", "SLUICE_REQUIRE_BROWSER", "1")))
        .isInstanceOf(TestAbortedException.class);
  }
}
