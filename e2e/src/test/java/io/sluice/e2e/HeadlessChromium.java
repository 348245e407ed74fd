package io.sluice.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.embedded.FileTrees;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven by its chromedriver, with a fresh profile. Missing or broken,
 * it fails the test with what to install, unless {@code SLUICE_SKIP_BROWSER_TESTS=1} says to skip.
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
        unavailable(binary + " is missing", null);
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
      unavailable("it did not start: " + e.getMessage(), e);
      throw new IllegalStateException("unreachable");
    }
  }

  private static void unavailable(String why, Throwable cause) {
    String message =
        "Headless Chromium is needed for the dashboard test but "
            + why
            + ". Install Debian's browser and driver (apt-get install -y chromium chromium-driver;"
            + " .ci/run does it when missing), or set SLUICE_SKIP_BROWSER_TESTS=1 to skip browser"
            + " tests.";
    Assumptions.assumeFalse(
        "1".equals(System.getenv("SLUICE_SKIP_BROWSER_TESTS")),
        "SLUICE_SKIP_BROWSER_TESTS=1: " + message);
    fail(message, cause);
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
