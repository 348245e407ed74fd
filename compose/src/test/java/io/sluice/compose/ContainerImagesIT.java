package io.sluice.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.embedded.FileTrees;
import io.sluice.embedded.FreePort;
import io.sluice.json.Json;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The images {@code jib:buildTar} wrote in this build ({@code -Dimages}; without it this class is
 * skipped): tagged and configured as the compose file expects, carrying the main classes it runs,
 * and able to run. Each image is unpacked and its entrypoint started with {@link Chroot}: the
 * compose file's one-shot migration, then a coordinator and a worker that run a job against the
 * test's own database and key prefix.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerImagesIT {
  private static final String TOKEN = "image-test-token-0123456789";

  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private ComposeFile compose;
  private Path work;
  private ImageTarball coordinator;
  private ImageTarball worker;

  @BeforeAll
  void unpack() throws Exception {
    String coordinatorTar = System.getProperty("sluice.coordinator.image");
    Assumptions.assumeTrue(
        coordinatorTar != null, "images are checked in builds with -Dimages (see the README)");
    compose = ComposeFile.load(ComposeFile.dotEnv(ComposeFile.dir().resolve(".env.example")));
    work = Files.createTempDirectory("sluice-images-");
    coordinator = ImageTarball.unpack(Path.of(coordinatorTar), work.resolve("coordinator"));
    worker =
        ImageTarball.unpack(
            Path.of(System.getProperty("sluice.worker.image")), work.resolve("worker"));
  }

  @AfterAll
  void cleanUp() {
    // The JVM runs as another user, which clears unshare's --kill-child, so stop it by its pid.
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    FileTrees.deleteTree(work);
  }

  @Test
  void theImagesAreTheOnesTheComposeFileNamesAndRunAsTheirMainClassesWithoutRoot() {
    assertThat(coordinator.repoTags()).containsExactly(compose.setting("coordinator", "image"));
    assertThat(worker.repoTags()).containsExactly(compose.setting("worker", "image"));
    assertThat(coordinator.entrypoint())
        .containsSubsequence("java", "-cp", "@/app/jib-classpath-file")
        .last()
        .isEqualTo("io.sluice.coordinator.CoordinatorMain");
    assertThat(worker.entrypoint()).last().isEqualTo("io.sluice.worker.WorkerMain");
    assertThat(coordinator.user()).isEqualTo("10001:10001");
    assertThat(worker.user()).isEqualTo("10001:10001");
    assertThat(coordinator.config.path("config").path("ExposedPorts").has("8080/tcp")).isTrue();
    assertThat(worker.config.path("config").path("ExposedPorts").has("8081/tcp")).isTrue();
  }

  @Test
  void everyClasspathEntryIsInTheImageWithTheMainClassesTheComposeFileRuns() throws IOException {
    for (ImageTarball image : List.of(coordinator, worker)) {
      for (String entry : image.classpath()) {
        assertThat(image.file(entry)).as(entry).exists();
      }
    }
    String migrateMain = compose.list("migrate", "entrypoint").getLast();
    assertThat(coordinator.file("/app/classes/" + migrateMain.replace('.', '/') + ".class"))
        .exists();
    assertThat(compose.list("migrate", "entrypoint"))
        .as("the migration runs with the image's own classpath")
        .containsSubsequence(
            coordinator.entrypoint().getFirst(), "-cp", "@/app/jib-classpath-file");
  }

  @Test
  void theImagesMigrateThenRunAJobAgainstRealRedisAndPostgres(TestEnvironment env)
      throws Exception {
    String why = Chroot.unavailableBecause();
    Assumptions.assumeTrue(why == null, () -> "images not run: " + why);
    Map<String, String> common = env.sluiceEnv();

    Path migrateLog = work.resolve("migrate.log");
    Process migrate = start(coordinator, compose.list("migrate", "entrypoint"), common, migrateLog);
    assertThat(migrate.waitFor(90, TimeUnit.SECONDS)).as("migration finished").isTrue();
    assertThat(migrate.exitValue()).as(Files.readString(migrateLog)).isZero();
    assertThat(Files.readString(migrateLog)).contains("is at schema version");

    int apiPort = FreePort.find();
    int workerPort = FreePort.find();
    Map<String, String> coordinatorEnv = new LinkedHashMap<>(common);
    coordinatorEnv.put("SLUICE_MIGRATE", "false");
    coordinatorEnv.put("SLUICE_API_TOKENS", "images:" + TOKEN);
    coordinatorEnv.put("SLUICE_HTTP_PORT", Integer.toString(apiPort));
    Map<String, String> workerEnv = new LinkedHashMap<>(common);
    workerEnv.put("SLUICE_HTTP_PORT", Integer.toString(workerPort));
    workerEnv.put("SLUICE_WORKER_CONCURRENCY", "4");
    Path coordinatorLog = work.resolve("coordinator.log");
    Path workerLog = work.resolve("worker.log");
    start(coordinator, coordinator.entrypoint(), coordinatorEnv, coordinatorLog);
    start(worker, worker.entrypoint(), workerEnv, workerLog);

    awaitReady("http://127.0.0.1:" + apiPort, coordinatorLog);
    awaitReady("http://127.0.0.1:" + workerPort, workerLog);
    HttpResponse<String> created =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + "/api/v1/jobs"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"wordcount\",\"payload\":{\"text\":\"in a\\ncontainer"
                            + " image\",\"linesPerTask\":1}}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.read(created.body()).get("id").asText();
    JsonNode[] job = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              job[0] =
                  Json.read(
                      http.send(
                              HttpRequest.newBuilder(
                                      URI.create(
                                          "http://127.0.0.1:" + apiPort + "/api/v1/jobs/" + id))
                                  .header("Authorization", "Bearer " + TOKEN)
                                  .build(),
                              HttpResponse.BodyHandlers.ofString())
                          .body());
              return job[0].path("status").asText().matches("SUCCEEDED|FAILED|CANCELLED");
            });
    assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
    assertThat(job[0].path("result").path("totalWords").asInt()).isEqualTo(4);
  }

  private Process start(ImageTarball image, List<String> command, Map<String, String> env, Path log)
      throws IOException {
    Process p = Chroot.start(image, command, env, log);
    processes.add(p);
    return p;
  }

  private void awaitReady(String base, Path log) throws IOException {
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .ignoreExceptions()
          .until(() -> get(base + "/health/ready").statusCode() == 200);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(base + " not ready; its log:\n" + FileTrees.tail(log, 40), e);
    }
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
