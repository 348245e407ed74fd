package io.sluice.config;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 without a provider lookup per call: {@link MessageDigest#getInstance} searches the
 * security providers each time (a measurable share of a submission's CPU at thousands a second),
 * while a clone of one prototype costs a copy of its state.
 */
public final class Sha256 {
  private static final MessageDigest PROTOTYPE;

  static {
    try {
      PROTOTYPE = MessageDigest.getInstance("SHA-256");
      PROTOTYPE.clone(); // every provider's SHA-256 is cloneable; fail at load if not
    } catch (NoSuchAlgorithmException | CloneNotSupportedException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private Sha256() {}

  /** The digest of {@code bytes}. */
  public static byte[] of(byte[] bytes) {
    try {
      return ((MessageDigest) PROTOTYPE.clone()).digest(bytes);
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }
}
