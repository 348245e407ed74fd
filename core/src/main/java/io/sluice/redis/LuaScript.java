package io.sluice.redis;

import io.sluice.SluiceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One Lua script from {@code src/main/resources/lua}. Clients call it by {@link #sha()} with
 * EVALSHA and send {@link #source()} once when Redis answers NOSCRIPT (after a restart or SCRIPT
 * FLUSH).
 */
public enum LuaScript {
  /** Appends one job's tasks to a ready stream. */
  ENQUEUE("enqueue"),
  /** Acknowledges and deletes stream entries. */
  ACK("ack"),
  /** Creates a job's fan-in counter and bitmap. */
  FANIN_INIT("fanin_init"),
  /** Counts finished tasks towards a job's fan-in, once per task. */
  FANIN("fanin"),
  /** Sets a batch of bits in a bitmap. */
  BITMAP_MARK("bitmap_mark"),
  /** Counts requeued tasks as unfinished again in a job's fan-in. */
  FANIN_REOPEN("fanin_reopen"),
  /** Takes a slot of each bounded counter for a holder, or none (check and increment at once). */
  SLOTS_ACQUIRE("slots_acquire"),
  /** Extends a holder's slots while the lease they are bound to is renewed. */
  SLOTS_RENEW("slots_renew"),
  /** Gives a holder's slots back. */
  SLOTS_RELEASE("slots_release");

  private final String source;
  private final String sha;

  LuaScript(String file) {
    this.source = load("/lua/" + file + ".lua");
    this.sha = sha1(source);
  }

  public String source() {
    return source;
  }

  public String sha() {
    return sha;
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

  private static String sha1(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
