package io.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresIT {

  @Test
  void dataSurvivesStopAndStartOnTheSamePort() throws SQLException {
    Path dataDir;
    try (EmbeddedPostgres postgres = EmbeddedPostgres.launch()) {
      dataDir = postgres.dataDirectory();
      postgres.createDatabase("sluice_it");
      try (Connection c = postgres.connect("sluice_it");
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (v int)");
        s.execute("INSERT INTO t VALUES (42)");
        try (ResultSet rs = s.executeQuery("SHOW server_version")) {
          rs.next();
          assertThat(rs.getString(1)).startsWith("15.");
        }
      }

      postgres.stop();
      assertThat(postgres.isRunning()).isFalse();
      assertThatThrownBy(() -> postgres.connect("sluice_it").close())
          .isInstanceOf(SQLException.class);

      postgres.start();
      try (Connection c = postgres.connect("sluice_it");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT v FROM t")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
      assertThat(postgres.jdbcUrl("x"))
          .isEqualTo("jdbc:postgresql://127.0.0.1:" + postgres.port() + "/x?user=postgres");
    }
    assertThat(Files.exists(dataDir)).as("data directory deleted by close()").isFalse();
  }

  @Test
  void committedDataSurvivesAnImmediateStop() throws SQLException {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.launch()) {
      postgres.createDatabase("sluice_crash");
      try (Connection c = postgres.connect("sluice_crash");
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (v int)");
        s.execute("INSERT INTO t VALUES (7)");
      }
      Connection open = postgres.connect("sluice_crash");

      postgres.stopImmediately();
      assertThat(postgres.isRunning()).isFalse();
      assertThatThrownBy(() -> open.createStatement().execute("SELECT 1"))
          .isInstanceOf(SQLException.class);

      postgres.start();
      try (Connection c = postgres.connect("sluice_crash");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT v FROM t")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(7);
      }
    }
  }

  @Test
  void rejectsDatabaseNamesThatWouldNeedQuoting() {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.launch()) {
      assertThatThrownBy(() -> postgres.createDatabase("x\"; DROP DATABASE postgres; --"))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
