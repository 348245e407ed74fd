package io.sluice.compose;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An image tarball written by {@code jib:buildTar} ({@code docker save} layout), unpacked: its
 * manifest, its configuration, and its layers applied in order to a root file system.
 */
final class ImageTarball {
  final JsonNode manifest;
  final JsonNode config;
  final Path rootfs;

  private ImageTarball(JsonNode manifest, JsonNode config, Path rootfs) {
    this.manifest = manifest;
    this.config = config;
    this.rootfs = rootfs;
  }

  static ImageTarball unpack(Path tarball, Path into) throws IOException, InterruptedException {
    Path outer = Files.createDirectories(into.resolve("image"));
    tar(tarball, outer);
    JsonNode manifest = Json.read(Files.readString(outer.resolve("manifest.json"))).get(0);
    JsonNode config = Json.read(Files.readString(outer.resolve(manifest.get("Config").asText())));
    Path rootfs = Files.createDirectories(into.resolve("rootfs"));
    for (JsonNode layer : manifest.get("Layers")) {
      tar(outer.resolve(layer.asText()), rootfs);
    }
    // Mount points, as a container runtime provides them.
    Files.createDirectories(rootfs.resolve("proc"));
    Files.createDirectories(rootfs.resolve("dev"));
    return new ImageTarball(manifest, config, rootfs);
  }

  List<String> repoTags() {
    List<String> tags = new ArrayList<>();
    manifest.get("RepoTags").forEach(t -> tags.add(t.asText()));
    return tags;
  }

  List<String> entrypoint() {
    List<String> entrypoint = new ArrayList<>();
    config.path("config").path("Entrypoint").forEach(e -> entrypoint.add(e.asText()));
    return entrypoint;
  }

  List<String> env() {
    List<String> env = new ArrayList<>();
    config.path("config").path("Env").forEach(e -> env.add(e.asText()));
    return env;
  }

  String user() {
    return config.path("config").path("User").asText();
  }

  /** The files {@code /app/jib-classpath-file} names, as paths inside the image. */
  List<String> classpath() throws IOException {
    String content = Files.readString(rootfs.resolve("app/jib-classpath-file")).trim();
    return List.of(content.split(":"));
  }

  /** A path inside the image as a path of the unpacked root file system. */
  Path file(String pathInImage) {
    return rootfs.resolve(pathInImage.replaceFirst("^/", ""));
  }

  private static void tar(Path archive, Path into) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("tar", "-xf", archive.toString(), "-C", into.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("tar -xf " + archive + " failed: " + output);
    }
  }
}
