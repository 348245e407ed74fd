package io.sluice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.Env;
import io.sluice.coordinator.Coordinator;
import io.sluice.coordinator.MigrateMain;
import io.sluice.embedded.ScratchDatabases;
import io.sluice.json.Json;
import io.sluice.store.SchemaNotCurrentException;
import io.sluice.testkit.SluiceTestExtension;
import io.sluice.testkit.TestEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Coordinators and workers run as a PostgreSQL role made by {@code docs/postgres-roles.sql}: rows
 * only, no DDL. The schema's owner (the test's database user) migrates. The role is cluster-wide,
 * so its name is random and it is dropped at the end. The tests run in order: the schema is first
 * left at version 3, which also checks that the file's default privileges cover tables the owner's
 * later migrations create.
 */
@ExtendWith(SluiceTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresRuntimeRoleIT {
  private final String role = ScratchDatabases.randomName("sluice_app_", 10);
  private final String password = ScratchDatabases.randomName("pw", 20);
  private TestEnvironment owner;
  private TestEnvironment app;

  @BeforeAll
  void prepare(TestEnvironment env) throws SQLException {
    owner = env;
    String url = withoutCredentials(env.jdbcUrl());
    Flyway.configure()
        .dataSource(env.jdbcUrl(), env.dbUser(), env.dbPassword())
        .target("3")
        .load()
        .migrate();
    try (Connection c = env.connect()) {
      PostgresRoles.apply(
          c, Map.of("app_role", role, "app_password", password, "owner_role", currentUser(c)));
    }
    app =
        new TestEnvironment(
            url, role, password, env.redisUrl(), env.redisPrefix(), env.databaseName());
  }

  @AfterAll
  void dropRole() throws SQLException {
    if (owner == null) {
      return;
    }
    try (Connection c = owner.connect();
        Statement st = c.createStatement()) {
      st.execute("DROP OWNED BY \"" + role + "\"");
      st.execute("DROP ROLE IF EXISTS \"" + role + "\"");
    }
  }

  @Test
  @Order(1)
  void aCoordinatorThatMayNotMigrateRefusesAnOldSchemaAndSaysWhatToRun() {
    assertThatThrownBy(
            () -> Coordinator.start(Stack.coordinatorConfig(app).withMigrate(false)).close())
        .isInstanceOf(SchemaNotCurrentException.class)
        .hasMessageContaining("at version 3")
        .hasMessageContaining("./sluice migrate");
  }

  @Test
  @Order(2)
  void theRuntimeRoleCannotMigrateButTheOwnerCanThroughTheMigrateCommand() {
    Map<String, String> vars = new HashMap<>();
    vars.put("SLUICE_DATABASE_URL", app.jdbcUrl());
    vars.put("SLUICE_DATABASE_USER", role);
    vars.put("SLUICE_DATABASE_PASSWORD", password);
    ByteArrayOutputStream refusal = new ByteArrayOutputStream();
    assertThat(migrate(vars, refusal)).as("migrating as the runtime role").isEqualTo(1);
    assertThat(refusal.toString(StandardCharsets.UTF_8))
        .as("the reason")
        .containsAnyOf("permission denied", "must be owner");

    if (owner.dbUser() != null) {
      vars.put("SLUICE_MIGRATE_DATABASE_USER", owner.dbUser());
    }
    if (owner.dbPassword() != null) {
      vars.put("SLUICE_MIGRATE_DATABASE_PASSWORD", owner.dbPassword());
    }
    vars.put("SLUICE_MIGRATE_DATABASE_URL", owner.jdbcUrl());
    ByteArrayOutputStream done = new ByteArrayOutputStream();
    assertThat(migrate(vars, done)).as("migrating as the owner: %s", done).isZero();
    assertThat(done.toString(StandardCharsets.UTF_8)).contains("is at schema version");
  }

  @Test
  @Order(3)
  void aCoordinatorAndAWorkerRunAJobAsTheRuntimeRole() throws SQLException {
    try (Stack stack = new Stack(app, 1, 4, c -> c.withMigrate(false))) {
      var created =
          stack.submit(
              "{\"type\":\"wordcount\",\"payload\":{\"text\":\"rows only\\nno ddl at"
                  + " all\\nhere\",\"linesPerTask\":1}}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      JsonNode job =
          stack.awaitTerminal(Json.read(created.body()).get("id").asText(), Duration.ofSeconds(30));

      assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
      assertThat(job.path("result").path("totalWords").asInt()).isEqualTo(7);
    }
    try (Connection c = connectAsApp();
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT count(*) FROM job_events WHERE to_status = 'SUCCEEDED'")) {
      rs.next();
      assertThat(rs.getLong(1)).as("events written by the runtime role").isPositive();
    }
  }

  @Test
  @Order(4)
  void theRuntimeRoleCannotChangeTheSchema() throws SQLException {
    try (Connection c = connectAsApp();
        Statement st = c.createStatement()) {
      assertThatThrownBy(() -> st.execute("CREATE TABLE sluice_intruder (id int)"))
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
      assertThatThrownBy(() -> st.execute("ALTER TABLE jobs ADD COLUMN intruder int"))
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
      assertThatThrownBy(() -> st.execute("DROP TABLE job_events"))
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
      assertThatThrownBy(() -> st.execute("TRUNCATE tasks"))
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("42501");
    }
  }

  private static int migrate(Map<String, String> vars, ByteArrayOutputStream output) {
    PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8);
    return MigrateMain.run(new Env(vars), print, print);
  }

  private Connection connectAsApp() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", role);
    props.setProperty("password", password);
    return DriverManager.getConnection(app.jdbcUrl(), props);
  }

  private static String currentUser(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** The URL without user or password parameters, which would override the role's. */
  private static String withoutCredentials(String jdbcUrl) {
    return jdbcUrl.replaceAll("([?&])(user|password)=[^&]*&?", "$1").replaceAll("[?&]$", "");
  }
}
