package io.sluice.api;

/** A payload that breaks its job type's schema; the API answers 400 naming {@link #field()}. */
public final class InvalidPayloadException extends RuntimeException {
  private final String field;

  public InvalidPayloadException(String field, String problem) {
    super("payload." + field + " " + problem);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
