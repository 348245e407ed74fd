package io.sluice.compose;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a command of an unpacked image the way a container runtime would, minus the isolation this
 * test does not need: its root file system ({@code chroot}), its user, its environment only, a
 * private {@code /proc} (a new mount and PID namespace, so the JVM finds {@code /proc/self}) and
 * the host's {@code /dev}. The network is the host's, so the process reaches the test's Redis and
 * PostgreSQL on 127.0.0.1. Needs root.
 */
final class Chroot {
  private static final Path UNSHARE = Path.of("/usr/bin/unshare");
  private static final Path CHROOT = Path.of("/usr/sbin/chroot");

  private Chroot() {}

  /** Null when images can be run here, else why not. */
  static String unavailableBecause() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "running an image with chroot needs root";
    }
    if (!Files.isExecutable(UNSHARE) || !Files.isExecutable(CHROOT)) {
      return UNSHARE + " or " + CHROOT + " is missing";
    }
    return null;
  }

  static Process start(ImageTarball image, List<String> command, Map<String, String> env, Path log)
      throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add(UNSHARE.toString());
    argv.add("--mount");
    argv.add("--pid");
    argv.add("--fork");
    argv.add("--kill-child");
    argv.add("--mount-proc=" + image.rootfs.resolve("proc"));
    // The host's /dev, bound in the private mount namespace (gone when it ends): the JVM seeds
    // SecureRandom from /dev/urandom and stalls for seconds without it.
    argv.add("/bin/sh");
    argv.add("-c");
    argv.add(
        "root=$0; user=$1; shift; mount --bind /dev \"$root/dev\" && exec "
            + CHROOT
            + " --userspec=\"$user\" \"$root\" \"$@\"");
    argv.add(image.rootfs.toString());
    argv.add(image.user());
    argv.addAll(command);
    ProcessBuilder builder =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().clear();
    for (String entry : image.env()) {
      String[] parts = entry.split("=", 2);
      builder.environment().put(parts[0], parts.length == 2 ? parts[1] : "");
    }
    builder.environment().putAll(env);
    return builder.start();
  }
}
