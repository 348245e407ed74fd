package io.sluice.compose;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code docker-compose.yml} as {@code docker compose config} would see it, with its variables
 * taken from a {@code .env} file: services, their environment, health checks and other settings.
 */
final class ComposeFile {
  private final Map<String, Object> root;
  private final Map<String, String> variables;

  private ComposeFile(Map<String, Object> root, Map<String, String> variables) {
    this.root = root;
    this.variables = variables;
  }

  /** The folder holding the compose file, its {@code .env.example} and the files it mounts. */
  static Path dir() {
    return Path.of(System.getProperty("sluice.compose.dir", "")).toAbsolutePath();
  }

  static ComposeFile load(Map<String, String> variables) throws IOException {
    try (Reader in = Files.newBufferedReader(dir().resolve("docker-compose.yml"))) {
      Map<String, Object> root = new Yaml().load(in);
      return new ComposeFile(root, variables);
    }
  }

  /**
   * {@code NAME=value} lines, as docker compose reads {@code .env}; comments and blanks skipped.
   */
  static Map<String, String> dotEnv(Path file) throws IOException {
    Map<String, String> vars = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      String trimmed = line.trim();
      if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
        String[] parts = trimmed.split("=", 2);
        vars.put(parts[0].trim(), parts.length == 2 ? parts[1].trim() : "");
      }
    }
    return vars;
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> services() {
    return (Map<String, Object>) root.get("services");
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> service(String name) {
    Map<String, Object> service = (Map<String, Object>) services().get(name);
    if (service == null) {
      throw new AssertionError("no service " + name + " in the compose file");
    }
    return service;
  }

  /** A setting of a service as a string, interpolated; null when absent. */
  String setting(String service, String key) {
    Object value = service(service).get(key);
    return value == null ? null : resolve(value.toString());
  }

  /** A service's environment, interpolated (the map form and the {@code NAME=value} list form). */
  Map<String, String> environment(String service) {
    Object env = service(service).get("environment");
    Map<String, String> resolved = new LinkedHashMap<>();
    if (env instanceof Map<?, ?> map) {
      map.forEach((k, v) -> resolved.put(k.toString(), v == null ? "" : resolve(v.toString())));
    } else if (env instanceof List<?> list) {
      for (Object item : list) {
        String[] parts = item.toString().split("=", 2);
        resolved.put(parts[0], parts.length == 2 ? resolve(parts[1]) : "");
      }
    }
    return resolved;
  }

  /** The health check's command as one string, interpolated; null when there is none. */
  @SuppressWarnings("unchecked")
  String healthcheck(String service) {
    Map<String, Object> check = (Map<String, Object>) service(service).get("healthcheck");
    if (check == null || check.get("test") == null) {
      return null;
    }
    Object test = check.get("test");
    return resolve(
        test instanceof List<?> list ? String.join(" ", (List<String>) list) : test.toString());
  }

  /** A list setting ({@code ports}, {@code volumes}, {@code expose}, …), interpolated. */
  List<String> list(String service, String key) {
    Object value = service(service).get(key);
    if (value == null) {
      return List.of();
    }
    return ((List<?>) value).stream().map(o -> resolve(o.toString())).toList();
  }

  /** The condition each service this one depends on must meet. */
  @SuppressWarnings("unchecked")
  Map<String, String> dependsOn(String service) {
    Object deps = service(service).get("depends_on");
    Map<String, String> conditions = new LinkedHashMap<>();
    if (deps instanceof Map<?, ?> map) {
      map.forEach(
          (k, v) ->
              conditions.put(
                  k.toString(),
                  String.valueOf(
                      ((Map<String, Object>) v).getOrDefault("condition", "service_started"))));
    } else if (deps instanceof List<?> list) {
      list.forEach(d -> conditions.put(d.toString(), "service_started"));
    }
    return conditions;
  }

  /** Every {@code ${...}} expression in the file, uninterpolated. */
  List<String> rawText() throws IOException {
    return Files.readAllLines(dir().resolve("docker-compose.yml"));
  }

  private String resolve(String text) {
    return Interpolation.resolve(text, variables);
  }
}
