package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** No configuration error prints a secret: passwords in URLs, tokens, Redis passwords. */
class SecretsInConfigErrorsTest {
  private static final String SECRET = "Pl4nted/S3cret@x";
  private static final String ENCODED = "Pl4nted%2FS3cret%40x";

  @Test
  void aLibpqStyleDatabaseUrlIsRefusedWithoutItsPassword() {
    String message =
        message(
            () ->
                new DatabaseConfig(
                    "postgres://sluice:" + SECRET + "@db.internal/sluice", null, null, 4));
    assertThat(message)
        .contains(
            "SLUICE_DATABASE_URL", "db.internal", "jdbc:postgresql:", "SLUICE_DATABASE_PASSWORD")
        .doesNotContain(SECRET)
        .doesNotContain("Pl4nted");
  }

  @Test
  void credentialsBeforeTheHostOfAJdbcUrlAreRefusedWithoutThePassword() {
    String message =
        message(
            () ->
                new DatabaseConfig(
                    "jdbc:postgresql://sluice:" + SECRET + "@db:5432/sluice", null, null, 4));
    assertThat(message).contains("must not hold credentials").doesNotContain("Pl4nted");
  }

  @Test
  void aPasswordParameterOfAJdbcUrlNeverShows() {
    String message =
        message(
            () ->
                new DatabaseConfig(
                    "jdbc:postgresql://db:5432/sluice?user=s&password=" + SECRET, null, null, 0));
    assertThat(message).contains("SLUICE_DATABASE_POOL_SIZE").doesNotContain("Pl4nted");
    assertThat(
            new DatabaseConfig("jdbc:postgresql://db/s?password=" + SECRET, "u", "p", 2).toString())
        .doesNotContain("Pl4nted");
  }

  @Test
  void aWrongRedisUrlNeverShowsItsPassword() {
    for (String url :
        new String[] {
          "redis://default:" + ENCODED + "@redis:6379/x",
          "redis://:" + SECRET + "@redis:6379/x",
          "http://user:" + SECRET + "@redis:6379",
          "redis://u:" + SECRET + " @redis",
          "redis:user:" + SECRET + "@redis"
        }) {
      String message = message(() -> RedisConfig.parse(url, "sluice"));
      assertThat(message).as(url).contains("SLUICE_REDIS_URL").doesNotContain("Pl4nted");
    }
  }

  @Test
  void tokenErrorsNeverShowATokenOrWhatLooksLikeOne() {
    for (String spec :
        new String[] {
          "team:short", "Pl4nted+S3cret/tok:x", "te@m:Pl4ntedS3cretToken", "ok:Pl4nted,:"
        }) {
      String message = message(() -> ApiTokens.parse(spec));
      assertThat(message).as(spec).contains("SLUICE_API_TOKENS").doesNotContain("Pl4nted");
    }
    assertThat(message(() -> ApiTokens.parse("SLUICE_ADMIN_TOKENS", "ops:tiny7", "admin")))
        .contains("SLUICE_ADMIN_TOKENS")
        .doesNotContain("tiny7");
  }

  @Test
  void aBadValueOfASecretSettingIsHidden() {
    Map<String, String> vars = new HashMap<>();
    vars.put("SLUICE_SOME_PASSWORD_TTL", SECRET);
    vars.put("SLUICE_API_TOKEN_COUNT", SECRET);
    Env env = new Env(vars);
    assertThat(message(() -> env.intValue("SLUICE_SOME_PASSWORD_TTL", 1, 0, 9)))
        .contains("(hidden)")
        .doesNotContain("Pl4nted");
    assertThat(message(() -> env.duration("SLUICE_API_TOKEN_COUNT", null)))
        .doesNotContain("Pl4nted");
  }

  @Test
  void redactionKeepsWhatSaysWhereAndMasksWhatIsSecret() {
    assertThat(Redact.text("postgres://u:" + SECRET + "@h:5432/db"))
        .isEqualTo("postgres://****@h:5432/db");
    assertThat(Redact.text("jdbc:postgresql://h/db?user=u&password=Pl4nted&ssl=true"))
        .isEqualTo("jdbc:postgresql://h/db?user=u&password=****&ssl=true");
    assertThat(Redact.text("jdbc:postgresql://h:5432/db")).isEqualTo("jdbc:postgresql://h:5432/db");
    assertThat(
            Redact.messages(
                new RuntimeException("x", new IllegalStateException("redis://:" + SECRET + "@r"))))
        .isEqualTo("x: redis://****@r");
  }

  private static String message(Runnable r) {
    ConfigException e = catchThrowableOfType(ConfigException.class, r::run);
    assertThat(e).as("a ConfigException").isNotNull();
    return e.getMessage();
  }
}
