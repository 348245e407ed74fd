package io.sluice.redis;

import io.sluice.SluiceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The script registry: one Lua script per file in {@code src/main/resources/lua}. Every client runs
 * them through {@link io.sluice.queue.ScriptRunner}: EVALSHA, and on NOSCRIPT (after a restart or
 * SCRIPT FLUSH) SCRIPT LOAD and EVALSHA again.
 */
public enum LuaScript implements Script {
  /** Appends one job's tasks to a ready stream. */
  ENQUEUE("enqueue"),
  /** Appends one job's tasks to its concurrency key's stream and puts the key on its ring. */
  ENQUEUE_KEYED("enqueue_keyed"),
  /** Acknowledges and deletes stream entries. */
  ACK("ack"),
  /** Acknowledges and deletes a concurrency key's entries and gives back their key slots. */
  ACK_KEYED("ack_keyed"),
  /**
   * Reads a queue's new entries, its bands highest first, and tells whether any are left; nothing
   * while the queue is paused, and no more than its rate limit allows.
   */
  FETCH("fetch", true),
  /** Creates a job's fan-in counter and bitmap. */
  FANIN_INIT("fanin_init"),
  /** Counts finished tasks towards a job's fan-in, once per task. */
  FANIN("fanin", true),
  /** Sets a batch of bits in a bitmap. */
  BITMAP_MARK("bitmap_mark"),
  /** Counts requeued tasks as unfinished again in a job's fan-in. */
  FANIN_REOPEN("fanin_reopen"),
  /** Takes a slot of each bounded counter for a holder, or none (check and increment at once). */
  SLOTS_ACQUIRE("slots_acquire"),
  /** Extends a holder's slots while the lease they are bound to is renewed. */
  SLOTS_RENEW("slots_renew"),
  /** Gives a holder's slots back. */
  SLOTS_RELEASE("slots_release"),
  /** Copies a queue's paused state (if newer) and rate limit into its control hash. */
  QUEUE_CONTROL("queue_control");

  private final String source;
  private final String sha;
  private final boolean repliesWithArray;

  LuaScript(String file) {
    this(file, false);
  }

  LuaScript(String file, boolean repliesWithArray) {
    this.source = load("/lua/" + file + ".lua");
    this.sha = sha1(source);
    this.repliesWithArray = repliesWithArray;
  }

  @Override
  public String source() {
    return source;
  }

  @Override
  public String sha() {
    return sha;
  }

  @Override
  public boolean repliesWithArray() {
    return repliesWithArray;
  }

  /** The SHA-1 Redis names {@code text} by, for scripts that are not one of these constants. */
  public static String sha1(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String load(String resource) {
    try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new SluiceException("Lua script " + resource + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SluiceException("cannot read Lua script " + resource, e);
    }
  }
}
