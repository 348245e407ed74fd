package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RedisConfigTest {
  @Test
  void aPlainUrlGivesHostPortAndTheDefaults() {
    RedisConfig c = RedisConfig.parse("redis://cache.internal:6380", "sluice");

    assertThat(c)
        .isEqualTo(new RedisConfig("cache.internal", 6380, null, null, false, 0, "sluice"));
  }

  @Test
  void userPasswordDatabaseAndTlsAreRead() {
    RedisConfig c = RedisConfig.parse("rediss://app:s%40cret%3A1@redis:6379/3", "p");

    assertThat(c.user()).isEqualTo("app");
    assertThat(c.password()).as("percent-decoded").isEqualTo("s@cret:1");
    assertThat(c.tls()).isTrue();
    assertThat(c.database()).isEqualTo(3);
  }

  @Test
  void aPasswordWithoutUserAndAMissingPortTakeRedisDefaults() {
    RedisConfig c = RedisConfig.parse("redis://:pw@localhost", "sluice");

    assertThat(c.user()).isNull();
    assertThat(c.password()).isEqualTo("pw");
    assertThat(c.port()).isEqualTo(6379);
    assertThat(RedisConfig.parse("redis://onlypw@localhost", "sluice").password())
        .isEqualTo("onlypw");
  }

  @Test
  void theMaskedFormsNeverShowThePassword() {
    RedisConfig c = RedisConfig.parse("redis://app:hunter2@redis:6379/1", "sluice");

    assertThat(c.maskedUrl()).isEqualTo("redis://app:****@redis:6379/1");
    assertThat(c.toString()).doesNotContain("hunter2").contains("prefix=sluice");
  }

  @Test
  void badUrlsNameTheSettingAndWhyWithoutTheirSecrets() {
    assertThatThrownBy(() -> RedisConfig.parse("http://u:hunter2@redis:6379", "sluice"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_REDIS_URL")
        .hasMessageContaining(
            "must start with redis://, rediss://, redis-sentinel://, redis-cluster://")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> RedisConfig.parse("redis://redis:6379/zero", "sluice"))
        .hasMessageContaining("database must be a number");
    assertThatThrownBy(() -> RedisConfig.parse("redis:///0", "sluice"))
        .hasMessageContaining("has no host");
    assertThatThrownBy(() -> RedisConfig.parse("redis://redis:6379", "bad prefix"))
        .hasMessageContaining("SLUICE_REDIS_PREFIX");
  }

  @Test
  void aSentinelUrlNamesEverySentinelTheMasterAndTheDatabase() {
    RedisConfig c =
        RedisConfig.parse("redis-sentinel://app:s%40cret@s1:26380,s2,10.0.0.3:26381/orders/2", "p");

    assertThat(c.sentinel().masterName()).isEqualTo("orders");
    assertThat(c.sentinel().nodes())
        .containsExactly(
            new RedisConfig.Node("s1", 26380),
            new RedisConfig.Node("s2", 26379),
            new RedisConfig.Node("10.0.0.3", 26381));
    assertThat(c.user()).isEqualTo("app");
    assertThat(c.password()).isEqualTo("s@cret");
    assertThat(c.database()).isEqualTo(2);
    assertThat(c.maskedUrl())
        .isEqualTo("redis-sentinel://app:****@s1:26380,s2:26379,10.0.0.3:26381/orders/2");
    assertThat(RedisConfig.parse("redis://r:6379", "p").sentinel()).isNull();
  }

  @Test
  void aSentinelUrlWithoutAMasterOrWithABadPortSaysWhatIsMissing() {
    assertThatThrownBy(() -> RedisConfig.parse("redis-sentinel://u:hunter2@s1:26379", "p"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("must name the master")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> RedisConfig.parse("redis-sentinel://s1:0/m", "p"))
        .hasMessageContaining("sentinel port of s1 must be 1-65535");
    assertThatThrownBy(() -> RedisConfig.parse("redis-sentinel://s1/m/x", "p"))
        .hasMessageContaining("database must be a number");
    assertThatThrownBy(() -> RedisConfig.parse("redis-sentinel://:1/m", "p"))
        .hasMessageContaining("sentinel without a host");
  }

  @Test
  void aClusterUrlNamesEverySeedAndTls() {
    RedisConfig c =
        RedisConfig.parse("rediss-cluster://app:pw%40x@10.0.0.1:7000, 10.0.0.2:7001,r3", "sluice");

    assertThat(c.isCluster()).isTrue();
    assertThat(c.cluster())
        .containsExactly(
            new RedisConfig.Node("10.0.0.1", 7000),
            new RedisConfig.Node("10.0.0.2", 7001),
            new RedisConfig.Node("r3", 6379));
    assertThat(c.tls()).isTrue();
    assertThat(c.user()).isEqualTo("app");
    assertThat(c.password()).isEqualTo("pw@x");
    assertThat(c.sentinel()).isNull();
    assertThat(c.maskedUrl())
        .isEqualTo("rediss-cluster://app:****@10.0.0.1:7000,10.0.0.2:7001,r3:6379");
    assertThat(RedisConfig.parse("redis-cluster://h:1/", "s").tls()).isFalse();
    assertThat(RedisConfig.parse("redis://h:1", "s").isCluster()).isFalse();
  }

  @Test
  void badClusterUrlsSayWhatIsWrong() {
    assertThatThrownBy(() -> RedisConfig.parse("redis-cluster://u:hunter2@", "s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("names no cluster node")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> RedisConfig.parse("redis-cluster://h:7000,h:x", "s"))
        .hasMessageContaining("cluster node port of h must be 1-65535");
    assertThatThrownBy(() -> RedisConfig.parse("redis-cluster://h:7000,,h:7001", "s"))
        .hasMessageContaining("cluster node without a host");
    assertThatThrownBy(() -> RedisConfig.parse("redis-cluster://h:7000/2", "s"))
        .hasMessageContaining("database 0 only");
  }
}
