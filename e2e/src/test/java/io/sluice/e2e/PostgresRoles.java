package io.sluice.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code docs/postgres-roles.sql} over JDBC as psql would with {@code -v name=value}: each
 * {@code :"name"} becomes a quoted identifier and each {@code :'name'} a quoted literal.
 */
final class PostgresRoles {
  private static final Pattern VARIABLE = Pattern.compile(":(\"|')([a-z_]+)\\1");

  private PostgresRoles() {}

  static void apply(Connection superuser, Map<String, String> variables) throws SQLException {
    try (Statement st = superuser.createStatement()) {
      for (String sql : statements(variables)) {
        st.execute(sql);
      }
    }
  }

  static List<String> statements(Map<String, String> variables) {
    List<String> statements = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(ProjectFiles.find("docs/postgres-roles.sql"))) {
        String trimmed = line.trim();
        if (!trimmed.isEmpty() && !trimmed.startsWith("--")) {
          statements.add(substitute(trimmed, variables));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return statements;
  }

  private static String substitute(String sql, Map<String, String> variables) {
    Matcher m = VARIABLE.matcher(sql);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = variables.get(m.group(2));
      if (value == null) {
        throw new IllegalArgumentException("no value for :" + m.group(2) + " in " + sql);
      }
      String quote = m.group(1);
      String quoted = quote + value.replace(quote, quote + quote) + quote;
      m.appendReplacement(out, Matcher.quoteReplacement(quoted));
    }
    m.appendTail(out);
    return out.toString();
  }
}
