package io.sluice.compose;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One project of {@code docker-compose.yml} on a real Docker engine, under a name of its own
 * ({@code -p}), so it shares nothing with another project on the same engine: containers, network
 * and volumes are prefixed with that name and {@link #down()} removes exactly them. Uses {@code
 * docker compose} (v2) where the plugin is installed, else {@code docker-compose} (v1.29); the
 * file's variables (secrets, the image tag, the published port) come from the environment given,
 * which wins over a {@code compose/.env} a developer may have.
 */
final class ComposeProject {
  private static final Duration UP = Duration.ofMinutes(4);
  private static final Duration QUICK = Duration.ofSeconds(30);

  private final List<String> compose;
  private final Path dir;
  private final String name;
  private final Map<String, String> variables;

  ComposeProject(Path dir, String name, Map<String, String> variables) {
    this.compose = composeCommand(dir);
    this.dir = dir;
    this.name = name;
    this.variables = Map.copyOf(variables);
  }

  /** {@code docker compose} when the v2 plugin answers, else {@code docker-compose}. */
  static List<String> composeCommand(Path dir) {
    if (Cli.run(QUICK, dir, Map.of(), List.of("docker", "compose", "version")).exit() == 0) {
      return List.of("docker", "compose");
    }
    Cli.run(QUICK, dir, Map.of(), List.of("docker-compose", "version")).ok();
    return List.of("docker-compose");
  }

  String name() {
    return name;
  }

  /** The compose command line in use, e.g. {@code docker-compose}. */
  String tool() {
    return String.join(" ", compose);
  }

  /** Creates and starts every service with {@code workers} workers; returns when compose does. */
  void up(int workers) {
    compose(UP, "up", "-d", "--scale", "worker=" + workers).ok();
  }

  /**
   * Scales the workers alone ({@code --no-deps}: the one-shot migration is not run again). Removed
   * workers get SIGTERM and the stop grace period of the file; compose returns once they exited.
   */
  void scaleWorkers(int workers) {
    compose(UP, "up", "-d", "--no-deps", "--scale", "worker=" + workers, "worker").ok();
  }

  /** The ids of the service's running containers. */
  List<String> running(String service) {
    return docker(
            QUICK,
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            "label=com.docker.compose.project=" + name,
            "--filter",
            "label=com.docker.compose.service=" + service)
        .ok()
        .lines();
  }

  /** The container's health ({@code starting}, {@code healthy}, {@code unhealthy}) or state. */
  String health(String container) {
    return docker(
            QUICK,
            "inspect",
            "-f",
            "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}",
            container)
        .ok()
        .text();
  }

  /** A query run by psql inside the postgres container as its superuser, rows as lines. */
  List<String> psql(String sql) {
    String postgres = running("postgres").getFirst();
    return docker(
            QUICK,
            "exec",
            "-u",
            "postgres",
            postgres,
            "psql",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
            "-d",
            "sluice",
            "-Atc",
            sql)
        .ok()
        .lines();
  }

  /** What the container printed. */
  String logs(String container) {
    Cli.Result r = docker(QUICK, "logs", container);
    return r.out() + r.err();
  }

  /** SIGKILL, as {@code docker kill} sends it: the process gets no chance to drain. */
  void kill(String container) {
    docker(QUICK, "kill", container).ok();
  }

  /** The last lines every service printed, for the message of a failure. */
  String logsTail() {
    Cli.Result r = compose(QUICK, "logs", "--no-color", "--tail=60");
    return r.out() + r.err();
  }

  /** Stops and removes the project's containers, network and volumes. */
  Cli.Result down() {
    return compose(Duration.ofMinutes(2), "down", "-v", "--remove-orphans", "--timeout", "20");
  }

  private Cli.Result compose(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(compose);
    command.addAll(List.of("-f", dir.resolve("docker-compose.yml").toString(), "-p", name));
    command.addAll(List.of(args));
    return Cli.run(timeout, dir, variables, command);
  }

  private Cli.Result docker(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of("docker"));
    command.addAll(List.of(args));
    return Cli.run(timeout, dir, Map.of(), command);
  }
}
