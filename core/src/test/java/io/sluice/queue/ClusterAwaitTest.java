package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.redis.RedisKeys;
import io.sluice.redis.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ClusterAwaitTest {
  private static final Pattern TAG = Pattern.compile("\\{([^}]*)}");

  @Test
  void onAClusterEveryBlockingReadKeepsToOneQueuesHashTagAndTheWaitIsShared() {
    Reads reads = new Reads(true);
    new RedisQueueProtocol(new RedisKeys("p"), reads)
        .awaitAny(List.of("a", "b"), "w", 4, Duration.ofMillis(1000));

    assertThat(reads.streams).hasSize(2);
    for (List<String> streams : reads.streams) {
      assertThat(streams.stream().map(ClusterAwaitTest::tag).distinct()).hasSize(1);
    }
    assertThat(reads.streams.stream().map(s -> tag(s.get(0))))
        .as("the first queue first")
        .containsExactly("q:a", "q:b");
    assertThat(reads.blocks).containsOnly(Duration.ofMillis(500));
  }

  @Test
  void onOneServerAllQueuesAreReadInOneBlockingRead() {
    Reads reads = new Reads(false);
    new RedisQueueProtocol(new RedisKeys("p"), reads)
        .awaitAny(List.of("a", "b"), "w", 4, Duration.ofMillis(1000));

    assertThat(reads.streams).hasSize(1);
    assertThat(Set.copyOf(reads.streams.get(0).stream().map(ClusterAwaitTest::tag).toList()))
        .containsExactlyInAnyOrder("q:a", "q:b");
  }

  private static String tag(String key) {
    Matcher m = TAG.matcher(key);
    return m.find() ? m.group(1) : key;
  }

  /** Records each read; nothing is ever there. */
  private static final class Reads implements QueueCommands {
    final List<List<String>> streams = new ArrayList<>();
    final List<Duration> blocks = new ArrayList<>();
    private final boolean cluster;

    Reads(boolean cluster) {
      this.cluster = cluster;
    }

    @Override
    public List<StreamEntry> readGroup(
        String group, String consumer, List<String> keys, int count, Duration block) {
      streams.add(List.copyOf(keys));
      blocks.add(block);
      return List.of();
    }

    @Override
    public boolean singleSlotReads() {
      return cluster;
    }

    @Override
    public void createGroup(String stream, String group) {}

    @Override
    public List<Object> evalsha(List<ScriptCall> calls) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void scriptLoad(Collection<? extends Script> scripts) {}

    @Override
    public void xadd(String stream, long maxLength, List<Map<String, String>> entries) {}

    @Override
    public void unlink(List<List<String>> keyGroups) {}

    @Override
    public List<StreamEntry> autoClaim(
        String stream, String group, String consumer, Duration minIdle, int count) {
      return List.of();
    }

    @Override
    public StreamReader openReader(String clientName) {
      return this;
    }

    @Override
    public boolean ping() {
      return true;
    }

    @Override
    public void close() {}
  }
}
