package io.sluice.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.embedded.FileTrees;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by its chromedriver, with a fresh profile. When it is not
 * installed the browser tests are skipped with what to install, so {@code ./mvnw verify} passes on
 * a machine with only a JDK; {@code SLUICE_REQUIRE_BROWSER=1} (set by {@code .ci/run}, which
 * installs it) makes a missing browser a failure instead, so CI never skips them. Installed but
 * broken, it fails the test; {@code SLUICE_SKIP_BROWSER_TESTS=1} skips browser tests in any case.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Path BROWSER = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  final WebDriver driver;
  private final Path profile;

  private HeadlessChromium(WebDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  static HeadlessChromium start() {
    for (Path binary : new Path[] {BROWSER, DRIVER}) {
      if (!Files.isExecutable(binary)) {
        unavailable(binary + " is missing", null, true, System.getenv());
      }
    }
    Path profile = null;
    try {
      profile = Files.createTempDirectory("sluice-chromium-");
      ChromeOptions options = new ChromeOptions();
      options.setBinary(BROWSER.toFile());
      options.addArguments(
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--window-size=1440,1250",
          "--user-data-dir=" + profile);
      ChromeDriverService service =
          new ChromeDriverService.Builder()
              .usingDriverExecutable(new File(DRIVER.toString()))
              .usingAnyFreePort()
              .build();
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
      return new HeadlessChromium(driver, profile);
    } catch (IOException | WebDriverException e) {
      FileTrees.deleteTree(profile);
      unavailable("it did not start: " + e.getMessage(), e, false, System.getenv());
      throw new IllegalStateException("unreachable");
    }
  }

  /**
   * Skips the test (a JUnit assumption) or fails it: skipped when the browser is not installed,
   * unless {@code SLUICE_REQUIRE_BROWSER=1}; failed when it is installed but does not start;
   * skipped whatever the cause with {@code SLUICE_SKIP_BROWSER_TESTS=1}.
   */
  static void unavailable(String why, Throwable cause, boolean missing, Map<String, String> env) {
    String message =
        "Headless Chromium is needed for the dashboard test but "
            + why
            + ". Install Debian's browser and driver (apt-get install -y chromium chromium-driver;"
            + " .ci/run does it when missing).";
    Assumptions.assumeFalse(
        "1".equals(env.get("SLUICE_SKIP_BROWSER_TESTS")),
        "SLUICE_SKIP_BROWSER_TESTS=1: browser tests skipped. " + message);
    boolean required = "1".equals(env.get("SLUICE_REQUIRE_BROWSER"));
    Assumptions.assumeFalse(
        missing && !required,
        "Browser tests skipped: "
            + message
            + " Set SLUICE_REQUIRE_BROWSER=1 to make a missing browser a failure (CI does).");
    fail(message + (required ? " SLUICE_REQUIRE_BROWSER=1: browser tests must run." : ""), cause);
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      FileTrees.deleteTree(profile);
    }
  }
}
