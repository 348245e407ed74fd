package io.sluice.compose;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Puts every image the compose file names into the Docker engine before a stack test: the
 * coordinator and worker images from the tarballs Jib wrote in this build ({@code docker load}),
 * and Redis and PostgreSQL as the file names them. Those are used as they are when present, pulled
 * when Docker Hub answers, and otherwise built as stand-ins by {@code standins/build.sh} (which
 * does nothing when the tag already carries its recipe). An official image already present is never
 * replaced by a stand-in.
 */
final class StackImages {
  static final String RECIPE_LABEL = "io.sluice.standin.recipe";
  private static final Duration LOAD = Duration.ofMinutes(3);
  private static final Duration PULL = Duration.ofSeconds(90);
  private static final Duration STANDINS = Duration.ofMinutes(10);

  private final Path dir;
  private final List<String> report = new ArrayList<>();

  private StackImages(Path dir) {
    this.dir = dir;
  }

  /** Loads and provides the images; returns one line per image saying where it came from. */
  static List<String> provide(ComposeFile compose, Path dir, Path... jibTarballs) {
    StackImages images = new StackImages(dir);
    for (Path tar : jibTarballs) {
      images.load(tar);
    }
    List<String> standins = new ArrayList<>();
    for (String service : List.of("redis", "postgres")) {
      String image = compose.setting(service, "image");
      if (images.needsStandin(image)) {
        standins.add(service);
      }
    }
    if (!standins.isEmpty()) {
      images.buildStandins(standins);
    }
    return images.report;
  }

  private void load(Path tar) {
    if (!Files.isRegularFile(tar)) {
      throw new AssertionError(
          tar + " is missing: build the images in the same run (-Dimages, see the README)");
    }
    long start = System.nanoTime();
    String loaded = docker(LOAD, "load", "-i", tar.toString()).ok().text();
    report.add(loaded + " from " + tar.getFileName() + " in " + millisSince(start) + " ms");
  }

  /** False when the image can be used as it is; true when build.sh must provide it. */
  private boolean needsStandin(String image) {
    Cli.Result inspect =
        docker(
            Duration.ofSeconds(30),
            "image",
            "inspect",
            "-f",
            "{{index .Config.Labels \"" + RECIPE_LABEL + "\"}}",
            image);
    if (inspect.exit() == 0) {
      String recipe = inspect.text().replace("<no value>", "");
      if (recipe.isEmpty()) {
        report.add(image + ": present, not a stand-in; used as it is");
        return false;
      }
      // A stand-in: build.sh rebuilds it when its recipe changed and does nothing otherwise.
      return true;
    }
    long start = System.nanoTime();
    Cli.Result pull = docker(PULL, "pull", "-q", image);
    if (pull.exit() == 0) {
      report.add(image + ": pulled in " + millisSince(start) + " ms");
      return false;
    }
    report.add(image + ": cannot be pulled (" + pull.err().strip() + "); a stand-in is built");
    return true;
  }

  private void buildStandins(List<String> services) {
    List<String> command = new ArrayList<>(List.of("bash", "standins/build.sh"));
    command.addAll(services);
    long start = System.nanoTime();
    Cli.Result r = Cli.run(STANDINS, dir, Map.of(), command).ok();
    report.addAll(r.lines());
    report.add(
        "standins/build.sh " + String.join(" ", services) + ": " + millisSince(start) + " ms");
  }

  private Cli.Result docker(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of("docker"));
    command.addAll(List.of(args));
    return Cli.run(timeout, dir, Map.of(), command);
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
