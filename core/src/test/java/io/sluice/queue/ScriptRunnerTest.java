package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.redis.LuaScript;
import io.sluice.redis.Script;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScriptRunnerTest {
  private final FakeRedis redis = new FakeRedis();
  private final ScriptRunner runner = new ScriptRunner(redis);

  @Test
  void aBatchOfKnownScriptsIsOnePipelineAndNoLoad() {
    redis.loaded.add(LuaScript.ACK.sha());

    List<Object> replies = runner.run(List.of(call(LuaScript.ACK, "1"), call(LuaScript.ACK, "2")));

    assertThat(replies).containsExactly(1L, 2L);
    assertThat(redis.pipelines).containsExactly(2);
    assertThat(redis.loads).isEmpty();
  }

  @Test
  void onlyTheCallsRedisAnsweredNoscriptAreLoadedAndSentAgain() {
    redis.loaded.add(LuaScript.ACK.sha());

    List<Object> replies =
        runner.run(
            List.of(
                call(LuaScript.ACK, "1"),
                call(LuaScript.ENQUEUE, "2"),
                call(LuaScript.ENQUEUE, "3")));

    assertThat(replies).containsExactly(1L, 2L, 3L);
    assertThat(redis.pipelines).containsExactly(3, 2);
    assertThat(redis.loads).containsExactly(List.of(LuaScript.ENQUEUE));
  }

  @Test
  void anyOtherErrorReplyIsThrownAndNothingIsSentAgain() {
    redis.loaded.add(LuaScript.ACK.sha());
    redis.failing = new IllegalStateException("ERR wrong number of arguments");

    assertThatThrownBy(() -> runner.run(call(LuaScript.ACK, "1"))).isSameAs(redis.failing);
    assertThat(redis.pipelines).containsExactly(1);
  }

  private static ScriptCall call(Script script, String arg) {
    return new ScriptCall(script, List.of("k"), List.of(arg));
  }

  /** Replies to EVALSHA with the call's argument as a number, or NOSCRIPT for unloaded scripts. */
  private static final class FakeRedis implements QueueCommands {
    final Set<String> loaded = new HashSet<>();
    final List<Integer> pipelines = new ArrayList<>();
    final List<List<Script>> loads = new ArrayList<>();
    RuntimeException failing;

    @Override
    public List<Object> evalsha(List<ScriptCall> calls) {
      pipelines.add(calls.size());
      List<Object> replies = new ArrayList<>();
      for (ScriptCall c : calls) {
        if (failing != null) {
          replies.add(failing);
        } else if (!loaded.contains(c.script().sha())) {
          replies.add(new IllegalStateException("NOSCRIPT No matching script."));
        } else {
          replies.add(Long.parseLong(c.args().get(0)));
        }
      }
      return replies;
    }

    @Override
    public void scriptLoad(Collection<? extends Script> scripts) {
      loads.add(List.copyOf(scripts));
      scripts.forEach(s -> loaded.add(s.sha()));
    }

    @Override
    public List<StreamEntry> readGroup(
        String group, String consumer, List<String> streams, int count, Duration block) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void createGroup(String stream, String group) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void xadd(String stream, long maxLength, List<Map<String, String>> entries) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void unlink(List<List<String>> keyGroups) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<StreamEntry> autoClaim(
        String stream, String group, String consumer, Duration minIdle, int count) {
      throw new UnsupportedOperationException();
    }

    @Override
    public StreamReader openReader(String clientName) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean ping() {
      return true;
    }

    @Override
    public void close() {}
  }
}
