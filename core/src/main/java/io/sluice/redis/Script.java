package io.sluice.redis;

/**
 * A Lua script as clients call it: by {@link #sha()} with EVALSHA, sending {@link #source()} with
 * SCRIPT LOAD only when Redis answers NOSCRIPT. Sluice's scripts are the {@link LuaScript}
 * constants.
 */
public interface Script {
  /** The script's text. */
  String source();

  /** The SHA-1 of {@link #source()}, as Redis names a loaded script. */
  String sha();

  /** Whether the script replies with an array rather than an integer. */
  boolean repliesWithArray();
}
