package io.sluice.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

class EmbeddedRedisIT {

  @Test
  void restartedServerIsEmptyOnTheSamePort() {
    Path workDir;
    try (EmbeddedRedis redis = EmbeddedRedis.launch()) {
      workDir = redis.logFile().getParent();
      assertThat(redis.url()).isEqualTo("redis://127.0.0.1:" + redis.port());
      try (Jedis jedis = new Jedis(URI.create(redis.url()))) {
        assertThat(jedis.info("server")).contains("redis_version:6.2");
        assertThat(jedis.configGet("save")).containsValue("");
        assertThat(jedis.configGet("appendonly")).containsValue("no");
        jedis.set("k", "v");
      }

      redis.stop();
      assertThatThrownBy(() -> new Jedis(URI.create(redis.url())).ping())
          .isInstanceOf(JedisConnectionException.class);

      redis.start();
      try (Jedis jedis = new Jedis(URI.create(redis.url()))) {
        assertThat(jedis.dbSize()).isZero();
        jedis.set("k", "v");
      }

      redis.restart();
      try (Jedis jedis = new Jedis(URI.create(redis.url()))) {
        assertThat(jedis.exists("k")).isFalse();
        jedis.set("k", "v");
      }

      redis.kill();
      assertThat(redis.isRunning()).isFalse();
      redis.start();
      try (Jedis jedis = new Jedis(URI.create(redis.url()))) {
        assertThat(jedis.exists("k")).as("key after a crash and start").isFalse();
      }
    }
    assertThat(Files.exists(workDir)).as("working directory deleted by close()").isFalse();
  }
}
