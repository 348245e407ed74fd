package io.sluice.queue;

import io.sluice.redis.RedisReplyError;
import io.sluice.redis.Script;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one way Sluice runs a script: EVALSHA, all calls of a batch in one pipeline; a call that
 * Redis answers NOSCRIPT (it restarted or flushed its script cache) has its script loaded and is
 * sent again, and only that call, so a batch that partly ran is not repeated.
 */
public final class ScriptRunner {
  private final QueueCommands commands;

  public ScriptRunner(QueueCommands commands) {
    this.commands = commands;
  }

  /** Runs the calls in one pipeline; returns their replies in order, or throws the first error. */
  public List<Object> run(List<ScriptCall> calls) {
    if (calls.isEmpty()) {
      return List.of();
    }
    List<Object> replies = new ArrayList<>(commands.evalsha(calls));
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < replies.size(); i++) {
      if (replies.get(i) instanceof RuntimeException e) {
        if (!RedisReplyError.NOSCRIPT.matches(e)) {
          throw e;
        }
        missing.add(i);
      }
    }
    if (missing.isEmpty()) {
      return replies;
    }
    Set<Script> scripts = new LinkedHashSet<>();
    List<ScriptCall> again = new ArrayList<>(missing.size());
    for (int i : missing) {
      scripts.add(calls.get(i).script());
      again.add(calls.get(i));
    }
    commands.scriptLoad(scripts);
    List<Object> retried = commands.evalsha(again);
    for (int k = 0; k < missing.size(); k++) {
      if (retried.get(k) instanceof RuntimeException e) {
        throw e;
      }
      replies.set(missing.get(k), retried.get(k));
    }
    return replies;
  }

  /** Runs one call and returns its reply. */
  public Object run(ScriptCall call) {
    return run(List.of(call)).get(0);
  }
}
