package io.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.SluiceException;
import org.junit.jupiter.api.Test;

class RedisReplyErrorTest {
  @Test
  void anErrorReplyIsKnownByTheCodeItStartsWith() {
    assertThat(RedisReplyError.of("NOGROUP No such key 'q' or consumer group 'workers'"))
        .isEqualTo(RedisReplyError.NOGROUP);
    assertThat(RedisReplyError.of("BUSYGROUP Consumer Group name already exists"))
        .isEqualTo(RedisReplyError.BUSYGROUP);
    assertThat(RedisReplyError.of("NOSCRIPT No matching script. Please use EVAL."))
        .isEqualTo(RedisReplyError.NOSCRIPT);
    assertThat(RedisReplyError.of("NOSCRIPT")).isEqualTo(RedisReplyError.NOSCRIPT);
  }

  @Test
  void aCodeNamedLaterInTheMessageOrNoMessageIsNoKnownReply() {
    assertThat(RedisReplyError.of("ERR user script mentions NOGROUP"))
        .isEqualTo(RedisReplyError.OTHER);
    assertThat(RedisReplyError.of((String) null)).isEqualTo(RedisReplyError.OTHER);
    assertThat(RedisReplyError.of(new RuntimeException())).isEqualTo(RedisReplyError.OTHER);
  }

  @Test
  void aReplyWrappedByTheCallerIsFoundInTheCauses() {
    Throwable wrapped =
        new SluiceException(
            "Redis call failed: NOSCRIPT No matching script",
            new IllegalStateException("NOSCRIPT No matching script"));

    assertThat(RedisReplyError.NOSCRIPT.matches(wrapped)).isTrue();
    assertThat(RedisReplyError.NOGROUP.matches(wrapped)).isFalse();
  }
}
